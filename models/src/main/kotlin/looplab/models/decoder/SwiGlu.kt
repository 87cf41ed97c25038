package looplab.models.decoder

import looplab.dsl.FfnConv
import looplab.models.params.ParamScope
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * The SwiGLU feed-forward: `down(silu(gate(x)) * up(x))`. With a [conv], the hidden activations
 * also pass through a causal depthwise convolution, added residually (CRT's ConvTRM): left padding
 * only, so a position mixes in earlier positions and never later ones.
 */
internal class SwiGlu(
    scope: ParamScope,
    width: Int,
    hidden: Int,
    initStd: Double,
    residualStd: Double,
    private val conv: FfnConv? = null,
) {
    private val gate = scope.matrix("gate", width, hidden, initStd)
    private val up = scope.matrix("up", width, hidden, initStd)
    private val down = scope.matrix("down", hidden, width, residualStd)
    private val kernel = conv?.let { scope.matrix("conv", hidden, it.kernel, initStd) }

    fun apply(ops: Ops, p: Params, x: Tensor): Tensor =
        with(ops) {
            var h = silu(linear(x, p[gate])) * linear(x, p[up])
            if (kernel != null) h = h + causalConv1d(h, p[kernel], conv!!.dilation)
            linear(h, p[down])
        }

    /**
     * [apply] inside a forward pass: the convolution, if any, keeps its window as the decoding
     * state [name].
     */
    fun apply(f: Forward, x: Tensor, name: String): Tensor =
        with(f.ops) {
            if (kernel == null) return apply(this, f.params, x)
            val p = f.params
            val h = silu(linear(x, p[gate])) * linear(x, p[up])
            linear(h + f.convolve("$name.conv", h, p[kernel], conv!!.dilation), p[down])
        }
}
