package looplab.models.optim

/**
 * Updates a parameter store from the gradients on it, and can save and restore its state exactly.
 */
public interface Optimizer {
    /** Updates taken so far. */
    public val steps: Long

    /**
     * One update at learning rate [lr]; gradients with a global L2 norm above [clipNorm] are scaled
     * down to it first. Gradients computed from a loss multiplied by [gradScale] are divided by it
     * first. Returns the (unscaled) norm before clipping; a non-finite norm leaves every parameter
     * untouched, so the caller can decide what it means (divergence, or an fp16 overflow to skip).
     */
    public fun step(lr: Double, clipNorm: Double?, gradScale: Double = 1.0): Double

    /** Zeroes every gradient before the next backward pass (DJL's collector never does). */
    public fun zeroGradients()

    public fun snapshot(): OptimizerState

    public fun load(state: OptimizerState)
}
