package looplab.models.optim

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDArrays
import ai.djl.ndarray.NDList
import kotlin.math.sqrt

/** Global gradient-norm clipping, shared by the eager optimizers so they clip alike. */
internal object Clipping {
    /**
     * The global L2 norm of [gradients] computed from a loss scaled by [gradScale], unscaled: every
     * parameter's sum of squares in one device-to-host read, added in double in order.
     */
    fun norm(gradients: Collection<NDArray>, gradScale: Double): Double {
        val sums = gradients.map { it.square().sum() }
        val squares =
            if (sums.isEmpty()) FloatArray(0) else NDArrays.stack(NDList(sums)).toFloatArray()
        return sqrt(squares.sumOf { it.toDouble() }) / gradScale
    }

    /**
     * What to multiply the (scaled) gradients by: unscale, then bring the norm down to [clipNorm].
     */
    fun factor(norm: Double, clipNorm: Double?, gradScale: Double): Double =
        (if (clipNorm != null && norm > clipNorm) clipNorm / (norm + 1e-6) else 1.0) / gradScale
}
