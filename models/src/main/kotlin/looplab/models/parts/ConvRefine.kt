package looplab.models.parts

import looplab.dsl.ConvRefine
import looplab.models.params.ParamScope
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * CRT's refined embeddings, causal: `cycles` applications of one shared step
 * `e + W·silu(conv(norm(e)))`, the convolution depthwise with left padding only. The projection
 * starts at zero, so refinement starts as the identity.
 */
internal class ConvRefineStep(scope: ParamScope, private val refine: ConvRefine, width: Int, initStd: Double, private val eps: Double) {
    private val norm = scope.gain("norm", width)
    private val kernel = scope.matrix("conv", width, refine.kernel, initStd)
    private val projection = scope.zeros("proj", listOf(width, width))

    fun apply(ops: Ops, p: Params, e: Tensor): Tensor = with(ops) {
        var x = e
        repeat(refine.cycles) {
            x = x + linear(silu(causalConv1d(rmsNorm(x, p[norm], eps), p[kernel], refine.dilation)), p[projection])
        }
        x
    }
}
