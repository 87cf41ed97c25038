package looplab.models.parts

import kotlin.math.exp
import kotlin.math.ln
import looplab.dsl.SsmMixer
import looplab.models.decoder.Forward
import looplab.models.decoder.convolve
import looplab.models.params.ParamScope
import looplab.models.tensor.Tensor

/**
 * A Mamba-2 mixer in pure ops: one input projection to the gate z, the SSM input x, B, C and the
 * per-head step dt; a causal depthwise convolution and SiLU over (x, B, C); the SSD scan ([ssd],
 * chunked matrix form) with `A = -exp(A_log)` and step `softplus(dt + dt_bias)`; the skip `D·x`; a
 * SiLU-gated RMSNorm and the output projection. Initialisation is a constant step of 0.05 and `A =
 * -1` for every head (Mamba-2 spreads both at random; constants keep initialisation a pure function
 * of the spec).
 */
internal class Mamba2(
    scope: ParamScope,
    private val config: SsmMixer,
    private val width: Int,
    initStd: Double,
    residualStd: Double,
    private val eps: Double,
) {
    private val inner = config.expand * width
    private val heads = inner / config.headSize
    private val state = config.state
    private val convolved = inner + 2 * state
    private val inProjection =
        scope.matrix("in_proj", width, 2 * inner + 2 * state + heads, initStd)
    private val convWeight = scope.matrix("conv", convolved, config.convKernel, initStd)
    private val stepBias = scope.control("dt_bias", listOf(heads), ln(exp(INITIAL_STEP) - 1))
    private val logDecayRate = scope.control("a_log", listOf(heads), 0.0)
    private val skip = scope.control("d", listOf(heads), 1.0)
    private val norm = scope.gain("norm", inner)
    private val outProjection = scope.matrix("out_proj", inner, width, residualStd)

    /**
     * [x] [B, T, width] through the mixer; [name] names its convolution window and SSM state in a
     * decoding cache.
     */
    fun apply(f: Forward, x: Tensor, name: String): Tensor =
        with(f.ops) {
            val p = f.params
            val (batch, length, _) = x.shape
            val projected = linear(x, p[inProjection])
            val z = slice(projected, -1, 0, inner)
            val xbc =
                silu(
                    f.convolve(
                        "$name.conv",
                        slice(projected, -1, inner, inner + convolved),
                        p[convWeight],
                        1,
                    )
                )
            val step =
                softplus(
                    slice(projected, -1, inner + convolved, inner + convolved + heads) + p[stepBias]
                )
            val xs =
                reshape(slice(xbc, -1, 0, inner), listOf(batch, length, heads, config.headSize))
            val b = slice(xbc, -1, inner, inner + state)
            val c = slice(xbc, -1, inner + state, inner + 2 * state)
            val rate = scale(exp(p[logDecayRate]), -1.0)
            val stepWide = reshape(step, listOf(batch, length, heads, 1))
            val y =
                scan(f, "$name.state", xs * stepWide, step * rate, b, c) +
                    xs * reshape(p[skip], listOf(heads, 1))
            val gated = reshape(y, listOf(batch, length, inner)) * silu(z)
            linear(rmsNorm(gated, p[norm], eps), p[outProjection])
        }

    /**
     * The SSD scan: chunked over a whole sequence (keeping its final state when prefilling), or one
     * step of the recurrence `h = exp(a)·h + x ⊗ b`, `y = h·c` from the state a decoding step
     * reads.
     */
    private fun scan(f: Forward, name: String, x: Tensor, a: Tensor, b: Tensor, c: Tensor): Tensor =
        with(f.ops) {
            val cache = f.cache ?: return ssd(x, a, b, c, config.chunk)
            if (f.slots == null) {
                val (y, last) = ssdWithState(x, a, b, c, config.chunk)
                cache.write(name, last)
                return y
            }
            val (batch, _, heads, size) = x.shape
            val h =
                cache.read(name) * reshape(exp(a), listOf(batch, heads, 1, 1)) +
                    reshape(x, listOf(batch, heads, size, 1)) *
                        reshape(b, listOf(batch, 1, 1, state))
            cache.write(name, h)
            reshape(
                matmul(h, reshape(c, listOf(batch, 1, state, 1))),
                listOf(batch, 1, heads, size),
            )
        }

    private companion object {
        const val INITIAL_STEP = 0.05
    }
}
