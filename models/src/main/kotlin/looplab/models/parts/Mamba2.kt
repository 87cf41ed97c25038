package looplab.models.parts

import looplab.dsl.SsmMixer
import looplab.models.params.ParamScope
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor
import kotlin.math.exp
import kotlin.math.ln

/**
 * A Mamba-2 mixer in pure ops: one input projection to the gate z, the SSM input x, B, C and the
 * per-head step dt; a causal depthwise convolution and SiLU over (x, B, C); the SSD scan
 * ([ssd], chunked matrix form) with `A = -exp(A_log)` and step `softplus(dt + dt_bias)`; the skip
 * `D·x`; a SiLU-gated RMSNorm and the output projection. Initialisation is a constant step of 0.05
 * and `A = -1` for every head (Mamba-2 spreads both at random; constants keep initialisation a pure
 * function of the spec).
 */
internal class Mamba2(scope: ParamScope, private val config: SsmMixer, private val width: Int, initStd: Double, residualStd: Double, private val eps: Double) {
    private val inner = config.expand * width
    private val heads = inner / config.headSize
    private val state = config.state
    private val convolved = inner + 2 * state
    private val inProjection = scope.matrix("in_proj", width, 2 * inner + 2 * state + heads, initStd)
    private val convWeight = scope.matrix("conv", convolved, config.convKernel, initStd)
    private val stepBias = scope.control("dt_bias", listOf(heads), ln(exp(INITIAL_STEP) - 1))
    private val logDecayRate = scope.control("a_log", listOf(heads), 0.0)
    private val skip = scope.control("d", listOf(heads), 1.0)
    private val norm = scope.gain("norm", inner)
    private val outProjection = scope.matrix("out_proj", inner, width, residualStd)

    fun apply(ops: Ops, p: Params, x: Tensor): Tensor = with(ops) {
        val (batch, length, _) = x.shape
        val projected = linear(x, p[inProjection])
        val z = slice(projected, -1, 0, inner)
        val xbc = silu(causalConv1d(slice(projected, -1, inner, inner + convolved), p[convWeight]))
        val step = softplus(slice(projected, -1, inner + convolved, inner + convolved + heads) + p[stepBias])
        val xs = reshape(slice(xbc, -1, 0, inner), listOf(batch, length, heads, config.headSize))
        val b = slice(xbc, -1, inner, inner + state)
        val c = slice(xbc, -1, inner + state, inner + 2 * state)
        val rate = scale(exp(p[logDecayRate]), -1.0)
        val stepWide = reshape(step, listOf(batch, length, heads, 1))
        val y = ssd(xs * stepWide, step * rate, b, c, config.chunk) + xs * reshape(p[skip], listOf(heads, 1))
        val gated = reshape(y, listOf(batch, length, inner)) * silu(z)
        linear(rmsNorm(gated, p[norm], eps), p[outProjection])
    }

    private companion object {
        const val INITIAL_STEP = 0.05
    }
}
