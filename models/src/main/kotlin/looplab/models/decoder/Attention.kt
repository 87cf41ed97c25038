package looplab.models.decoder

import looplab.dsl.ModelSpec
import looplab.models.params.ParamScope
import looplab.models.tensor.Tensor

/**
 * Causal self-attention (over a sliding window when the model has one) with rotary positions (when
 * the model uses them), grouped-query attention (`kvHeads` key/value heads, each serving `heads /
 * kvHeads` query heads), optionally keys through a rank-r bottleneck and value embeddings mixed
 * into the values with a learned gain.
 */
internal class Attention(scope: ParamScope, private val spec: ModelSpec, residualStd: Double) {
    private val width = spec.width
    private val heads = spec.heads
    private val kvHeads = spec.resolvedKvHeads
    private val headSize = spec.headSize
    private val kvWidth = spec.kvWidth
    private val wq = scope.matrix("wq", width, width, spec.initStd)
    private val keyRank = spec.recursive.keyRank
    private val wk = if (keyRank == null) scope.matrix("wk", width, kvWidth, spec.initStd) else null
    private val wkDown = keyRank?.let { scope.matrix("wk_a", width, it, spec.initStd) }
    private val wkUp = keyRank?.let { scope.matrix("wk_b", it, kvWidth, spec.initStd) }
    private val wv = scope.matrix("wv", width, kvWidth, spec.initStd)
    private val wo = scope.matrix("wo", width, width, residualStd)
    private val valueGain =
        if (spec.embedding.valueEmbeddings) scope.control("value_embed_gain", listOf(1), 0.5)
        else null

    /**
     * [x] [B, T, width] through the attention; [name] names its keys and values in a decoding
     * cache.
     */
    fun apply(f: Forward, x: Tensor, name: String): Tensor =
        with(f.ops) {
            val p = f.params
            val (batch, time) = x.shape
            val step = f.slots
            fun split(y: Tensor, n: Int) =
                transpose(reshape(y, listOf(batch, time, n, headSize)), 1, 2)
            fun positioned(y: Tensor) =
                f.ropeBase?.let { base ->
                    if (step == null) rope(y, base) else ropeAt(y, base, step.slots)
                } ?: y
            val keys =
                if (wk != null) linear(x, p[wk]) else linear(linear(x, p[wkDown!!]), p[wkUp!!])
            var values = linear(x, p[wv])
            if (valueGain != null) values = values + f.valueEmbedding!! * p[valueGain]
            val q = positioned(split(linear(x, p[wq]), heads))
            val k = shareAcrossGroup(f.remember("$name.k", positioned(split(keys, kvHeads))))
            val v = shareAcrossGroup(f.remember("$name.v", split(values, kvHeads)))
            val segments = f.segments
            val attended =
                when {
                    step != null -> maskedAttention(q, k, v, step.mask)
                    segments != null -> documentCausalAttention(q, k, v, segments)
                    else -> causalAttention(q, k, v, spec.attentionWindow)
                }
            linear(reshape(transpose(attended, 1, 2), listOf(batch, time, width)), p[wo])
        }

    /**
     * [B, kv, T, D] to [B, heads, T, D]: key/value head j serves query heads j·g until (j + 1)·g.
     */
    private fun looplab.models.tensor.Ops.shareAcrossGroup(y: Tensor): Tensor {
        if (kvHeads == heads) return y
        val (batch, _, time, size) = y.shape
        val group = heads / kvHeads
        val expanded =
            broadcastTo(
                reshape(y, listOf(batch, kvHeads, 1, time, size)),
                listOf(batch, kvHeads, group, time, size),
            )
        return reshape(expanded, listOf(batch, heads, time, size))
    }
}
