package looplab.models.decoder

import looplab.models.params.ParamScope
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/** Causal multi-head self-attention with rotary positions. */
internal class Attention(scope: ParamScope, private val width: Int, private val heads: Int, initStd: Double, residualStd: Double, private val ropeBase: Double) {
    private val wq = scope.matrix("wq", width, width, initStd)
    private val wk = scope.matrix("wk", width, width, initStd)
    private val wv = scope.matrix("wv", width, width, initStd)
    private val wo = scope.matrix("wo", width, width, residualStd)

    fun apply(ops: Ops, p: Params, x: Tensor): Tensor = with(ops) {
        val (batch, time) = x.shape
        val headSize = width / heads
        fun split(y: Tensor) = transpose(reshape(y, listOf(batch, time, heads, headSize)), 1, 2)
        val q = rope(split(linear(x, p[wq])), ropeBase)
        val k = rope(split(linear(x, p[wk])), ropeBase)
        val v = split(linear(x, p[wv]))
        val merged = reshape(transpose(causalAttention(q, k, v), 1, 2), listOf(batch, time, width))
        linear(merged, p[wo])
    }
}
