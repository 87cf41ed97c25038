package looplab.pipelines.export

import looplab.dsl.ModelSpec

/**
 * The mapping between looplab's parameter names of a plain decoder and `LlamaForCausalLM`'s:
 * matrices transposed (looplab `[in, out]`, PyTorch Linear `[out, in]`), tables and gains as they
 * are.
 */
public object LlamaNames {
    private fun layer(i: Int) =
        listOf(
            "blocks.$i.attn_norm" to "model.layers.$i.input_layernorm.weight",
            "blocks.$i.attn.wq" to "model.layers.$i.self_attn.q_proj.weight",
            "blocks.$i.attn.wk" to "model.layers.$i.self_attn.k_proj.weight",
            "blocks.$i.attn.wv" to "model.layers.$i.self_attn.v_proj.weight",
            "blocks.$i.attn.wo" to "model.layers.$i.self_attn.o_proj.weight",
            "blocks.$i.mlp_norm" to "model.layers.$i.post_attention_layernorm.weight",
            "blocks.$i.mlp.gate" to "model.layers.$i.mlp.gate_proj.weight",
            "blocks.$i.mlp.up" to "model.layers.$i.mlp.up_proj.weight",
            "blocks.$i.mlp.down" to "model.layers.$i.mlp.down_proj.weight",
        )

    /** looplab name → Hugging Face name, for [spec] (a plain decoder). */
    public fun names(spec: ModelSpec): Map<String, String> = buildMap {
        put("embed", "model.embed_tokens.weight")
        put("final_norm", "model.norm.weight")
        if (!spec.embedding.tied) put("head", "lm_head.weight")
        for (i in 0 until spec.recursive.blocks) putAll(layer(i))
    }

    /** A matrix (not a table or gain) changes layout between the two. */
    private fun transposed(name: String) =
        name != "embed" && !name.endsWith("norm") && name != "lm_head"

    public fun toHuggingFace(
        spec: ModelSpec,
        weights: Map<String, FloatArray>,
        shapes: Map<String, List<Int>>,
    ): Map<String, Pair<FloatArray, List<Int>>> {
        val names = names(spec)
        val unmapped = weights.keys - names.keys
        require(unmapped.isEmpty()) { "parameters without a Llama name: $unmapped" }
        return names.entries.associate { (ours, theirs) ->
            val values = weights[ours] ?: throw IllegalArgumentException("the weights lack $ours")
            val shape = shapes.getValue(ours)
            theirs to
                (if (transposed(ours)) transpose(values, shape) to shape.reversed()
                else values to shape)
        }
    }

    /** The looplab weights of a Llama checkpoint's [tensors] for [spec]. */
    public fun fromHuggingFace(
        spec: ModelSpec,
        tensors: Map<String, Pair<FloatArray, List<Int>>>,
    ): Map<String, FloatArray> =
        names(spec).entries.associate { (ours, theirs) ->
            val (values, shape) =
                tensors[theirs] ?: throw IllegalArgumentException("the checkpoint lacks $theirs")
            ours to if (transposed(ours)) transpose(values, shape) else values
        }

    /** [values] of a [rows, cols] matrix as [cols, rows]. */
    private fun transpose(values: FloatArray, shape: List<Int>): FloatArray {
        require(shape.size == 2) { "not a matrix: $shape" }
        val (rows, cols) = shape
        return FloatArray(values.size) { i -> values[(i % rows) * cols + i / rows] }
    }
}
