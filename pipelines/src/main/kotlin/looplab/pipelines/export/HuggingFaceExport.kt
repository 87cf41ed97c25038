package looplab.pipelines.export

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonObject
import looplab.curriculum.text.HuggingFaceTokenizer
import looplab.curriculum.text.Tokenizer
import looplab.curriculum.text.bpe.BpeTokenizer
import looplab.curriculum.text.bpe.TokenizerJson
import looplab.dsl.AttentionMixer
import looplab.dsl.LearnedPositions
import looplab.dsl.ModelSpec
import looplab.dsl.NoPositions
import looplab.dsl.Rope
import looplab.dsl.UserFacingError

/** A model that cannot be exported; the message names the parts in the way. */
public class ExportException(message: String) : IllegalArgumentException(message), UserFacingError

/** How a variant was exported. */
public enum class ExportFormat {
    Llama,
    Looplab,
}

/**
 * Writes a trained model in the Hugging Face layout: `model.safetensors`, `config.json`,
 * `generation_config.json` and, when the tokenizer has one, `tokenizer.json`.
 *
 * A plain decoder (one pass of its blocks, RoPE, attention and SwiGLU only) becomes a
 * `LlamaForCausalLM`, which `transformers` loads with no custom code: looplab already rotates the
 * two halves of each head (GPT-NeoX/LLaMA's rotate_half), groups query heads over key/value heads
 * as `repeat_kv` does and normalises as LlamaRMSNorm does, so the weights only need renaming and
 * transposing (looplab stores `[in, out]`, PyTorch's Linear `[out, in]`). A looped model (osrt-v3:
 * shared blocks, adapters, inter-loop norm, injection, prelude and coda) keeps looplab's names and
 * ships `modeling_looplab.py`, loaded with `trust_remote_code=True`.
 */
public object HuggingFaceExport {
    private val json = Json { prettyPrint = true }

    /** The parts that keep [spec] from being a plain Llama decoder; empty when it is one. */
    public fun llamaBlockers(spec: ModelSpec): List<String> = buildList {
        val r = spec.recursive
        if (r.loops != 1) add("${r.loops} loops")
        if (spec.prelude > 0 || spec.coda > 0) add("prelude/coda")
        if (r.adapters != null) add("adapters")
        if (r.interLoopNorm) add("inter-loop norm")
        addAll(modelingBlockers(spec))
    }

    /** The parts `modeling_looplab.py` does not implement; empty when it can run [spec]. */
    public fun modelingBlockers(spec: ModelSpec): List<String> = buildList {
        val r = spec.recursive
        when (val p = spec.positions) {
            is Rope -> if (p.ntk) add("NTK-scaled RoPE")
            LearnedPositions -> add("learned positions")
            NoPositions -> add("no positions (NoPE)")
        }
        spec.attentionWindow?.let { add("a sliding attention window ($it)") }
        if (r.mixer != AttentionMixer) add("an SSM mixer")
        if (r.keyRank != null) add("low-rank keys")
        if (r.conv != null) add("an FFN convolution")
        if (r.moe != null) add("MoE")
        if (r.passControls) add("pass controls")
        if (r.skips) add("U-Net skips")
        if (r.exitGate) add("exit gates")
        if (spec.embedding.valueEmbeddings) add("value embeddings")
        if (spec.embedding.refine != null) add("refined embeddings")
        if (spec.memory != null) add("memory tokens")
        if (spec.latent != null) add("latent thoughts")
        if (spec.act != null) add("ACT")
        if (spec.earlyExit != null) add("early exit")
    }

    /**
     * Exports [weights] (looplab names → values; [shapes] gives each one's shape) of [spec] with a
     * vocabulary of [vocabSize] rows into [dir]. Without a [tokenizer] (a bench model) no
     * tokenizer.json is written and the special ids are GPT-NeoX's (BOS = EOS = 0, PAD = 1).
     */
    public fun export(
        spec: ModelSpec,
        vocabSize: Int,
        weights: Map<String, FloatArray>,
        shapes: Map<String, List<Int>>,
        tokenizer: Tokenizer?,
        dir: Path,
    ): ExportFormat {
        val ids = SpecialIds(tokenizer?.bos ?: 0, tokenizer?.eos ?: 0, tokenizer?.pad ?: 1)
        val blockers = modelingBlockers(spec)
        if (blockers.isNotEmpty())
            throw ExportException(
                "variant ${spec.name} uses ${blockers.joinToString()}, which the export does not implement"
            )
        Files.createDirectories(dir)
        val format = if (llamaBlockers(spec).isEmpty()) ExportFormat.Llama else ExportFormat.Looplab
        val tensors =
            if (format == ExportFormat.Llama) LlamaNames.toHuggingFace(spec, weights, shapes)
            else weights.mapValues { (name, v) -> v to shapes.getValue(name) }
        Safetensors.write(dir.resolve("model.safetensors"), tensors)
        val config =
            if (format == ExportFormat.Llama) llamaConfig(spec, vocabSize, ids)
            else looplabConfig(spec, vocabSize, ids)
        Files.writeString(
            dir.resolve("config.json"),
            json.encodeToString(JsonObject.serializer(), config) + "\n",
        )
        Files.writeString(
            dir.resolve("generation_config.json"),
            json.encodeToString(
                JsonObject.serializer(),
                buildJsonObject {
                    put("bos_token_id", ids.bos)
                    put("eos_token_id", ids.eos)
                    put("pad_token_id", ids.pad)
                    put("do_sample", false)
                },
            ) + "\n",
        )
        when (tokenizer) {
            is HuggingFaceTokenizer ->
                Files.writeString(
                    dir.resolve("tokenizer.json"),
                    json.encodeToString(JsonObject.serializer(), tokenizer.document) + "\n",
                )
            is BpeTokenizer -> TokenizerJson.write(tokenizer, dir.resolve("tokenizer.json"))
            else -> {} // char, byte and tiktoken tokenizers have no tokenizer.json; ids are what
        // the model takes
        }
        if (format == ExportFormat.Looplab) {
            for (file in listOf("modeling_looplab.py", "configuration_looplab.py")) {
                val text =
                    javaClass.getResourceAsStream("/looplab/export/$file")?.use {
                        String(it.readAllBytes())
                    } ?: error("missing resource $file")
                Files.writeString(dir.resolve(file), text)
            }
        }
        return format
    }

    private class SpecialIds(val bos: Int, val eos: Int, val pad: Int)

    private fun llamaConfig(spec: ModelSpec, vocabSize: Int, tokenizer: SpecialIds): JsonObject =
        buildJsonObject {
            val base = (spec.positions as Rope).base
            put(
                "architectures",
                kotlinx.serialization.json.buildJsonArray {
                    add(kotlinx.serialization.json.JsonPrimitive("LlamaForCausalLM"))
                },
            )
            put("model_type", "llama")
            put("vocab_size", vocabSize)
            put("hidden_size", spec.width)
            put("intermediate_size", spec.resolvedFfnHidden)
            put("num_hidden_layers", spec.recursive.blocks)
            put("num_attention_heads", spec.heads)
            put("num_key_value_heads", spec.resolvedKvHeads)
            put("head_dim", spec.headSize)
            put("hidden_act", "silu")
            put("max_position_embeddings", spec.contextLength)
            put("rms_norm_eps", spec.normEps)
            put("rope_theta", base)
            putJsonObject("rope_parameters") {
                put("rope_type", "default")
                put("rope_theta", base)
            }
            put("tie_word_embeddings", spec.embedding.tied)
            put("attention_bias", false)
            put("mlp_bias", false)
            put("bos_token_id", tokenizer.bos)
            put("eos_token_id", tokenizer.eos)
            put("pad_token_id", tokenizer.pad)
            put("torch_dtype", "float32")
            put("dtype", "float32")
        }

    private fun looplabConfig(spec: ModelSpec, vocabSize: Int, tokenizer: SpecialIds): JsonObject =
        buildJsonObject {
            val r = spec.recursive
            put(
                "architectures",
                kotlinx.serialization.json.buildJsonArray {
                    add(kotlinx.serialization.json.JsonPrimitive("LooplabForCausalLM"))
                },
            )
            put("model_type", "looplab")
            putJsonObject("auto_map") {
                put("AutoConfig", "configuration_looplab.LooplabConfig")
                put("AutoModelForCausalLM", "modeling_looplab.LooplabForCausalLM")
            }
            put("vocab_size", vocabSize)
            put("hidden_size", spec.width)
            put("intermediate_size", spec.resolvedFfnHidden)
            put("num_attention_heads", spec.heads)
            put("num_key_value_heads", spec.resolvedKvHeads)
            put("head_dim", spec.headSize)
            // One KV cache layer per block application: prelude, every (loop, block), coda.
            put("num_hidden_layers", spec.prelude + r.loops * r.blocks + spec.coda)
            put("blocks", r.blocks)
            put("loops", r.loops)
            put("prelude", spec.prelude)
            put("coda", spec.coda)
            put("inject", r.inject)
            put("inter_loop_norm", r.interLoopNorm)
            put("adapter_rank", r.adapters?.rank ?: 0)
            put("adapter_scale", r.adapters?.scale ?: 1.0)
            put("max_position_embeddings", spec.contextLength)
            put("rms_norm_eps", spec.normEps)
            put("rope_theta", (spec.positions as Rope).base)
            // The model ties its head itself (tied_head); transformers' own tying stays off.
            put("tied_head", spec.embedding.tied)
            put("tie_word_embeddings", false)
            put("bos_token_id", tokenizer.bos)
            put("eos_token_id", tokenizer.eos)
            put("pad_token_id", tokenizer.pad)
            put("torch_dtype", "float32")
            put("dtype", "float32")
        }
}
