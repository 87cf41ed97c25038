package looplab.models.parts

import looplab.dsl.ConvRefine
import looplab.models.decoder.Forward
import looplab.models.decoder.convolve
import looplab.models.params.ParamScope
import looplab.models.tensor.Tensor

/**
 * CRT's refined embeddings, causal: `cycles` applications of one shared step `e +
 * W·silu(conv(norm(e)))`, the convolution depthwise with left padding only. The projection starts
 * at zero, so refinement starts as the identity.
 */
internal class ConvRefineStep(
    scope: ParamScope,
    private val refine: ConvRefine,
    width: Int,
    initStd: Double,
    private val eps: Double,
) {
    private val norm = scope.gain("norm", width)
    private val kernel = scope.matrix("conv", width, refine.kernel, initStd)
    private val projection = scope.zeros("proj", listOf(width, width))

    fun apply(f: Forward, e: Tensor): Tensor =
        with(f.ops) {
            val p = f.params
            var x = e
            repeat(refine.cycles) { cycle ->
                x =
                    x +
                        linear(
                            silu(
                                f.convolve(
                                    "refine.cycle$cycle",
                                    rmsNorm(x, p[norm], eps),
                                    p[kernel],
                                    refine.dilation,
                                )
                            ),
                            p[projection],
                        )
            }
            x
        }
}
