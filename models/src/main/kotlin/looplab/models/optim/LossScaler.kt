package looplab.models.optim

/**
 * Dynamic loss scaling for fp16 training: the loss is multiplied by [scale] so small gradients do
 * not underflow; a step whose gradients overflow is skipped and the scale halved, and after
 * [growthInterval] clean steps the scale doubles again (the schedule of PyTorch's GradScaler).
 */
public class LossScaler(initial: Double = 65_536.0, private val growthInterval: Int = 2_000) {
    public var scale: Double = initial
        private set

    private var cleanSteps = 0

    /** Records a step's outcome; returns whether its update should be applied. */
    public fun update(finiteGradients: Boolean): Boolean {
        if (!finiteGradients) {
            scale /= 2
            cleanSteps = 0
            return false
        }
        if (++cleanSteps >= growthInterval) {
            scale *= 2
            cleanSteps = 0
        }
        return true
    }
}
