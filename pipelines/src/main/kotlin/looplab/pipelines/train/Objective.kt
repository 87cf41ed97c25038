package looplab.pipelines.train

import looplab.models.Pass

/**
 * What a training stage optimises, as the [TrainingLoop] sees it: a step's batch split into
 * micro-batches, and a forward and backward pass on each. Pretraining, fine-tuning and RL differ
 * here and in their [Batches], never in the loop.
 */
public interface Objective<B : Any> {
    /**
     * [batch] in [count] micro-batches, each with the share of the step's loss it carries, so that
     * their summed gradients equal the whole batch's (e.g. its share of the loss-carrying tokens).
     */
    public fun split(batch: B, count: Int): List<MicroBatch<B>>

    /**
     * The loss of [micro] and its gradients, added to those already on the parameters. The backward
     * pass starts from the loss times [lossScale]; the returned loss is unscaled.
     */
    public fun forwardBackward(micro: B, pass: Pass, lossScale: Double): StepLoss

    /**
     * Tokens a batch counts as read (the loop reports tokens per second and stops at a token
     * budget).
     */
    public fun tokens(batch: B): Long
}

/** A part of a step's batch and the weight of its loss in the step's loss. */
public class MicroBatch<B : Any>(public val batch: B, public val weight: Double)

/** A scalar loss and the model's named extra metrics (auxiliary losses, telemetry). */
public data class StepLoss(val loss: Double, val extra: Map<String, Double> = emptyMap()) {
    /** This loss plus [other] weighted by [weight]: how micro-batches add up to a step. */
    public fun plus(other: StepLoss, weight: Double): StepLoss =
        StepLoss(
            loss + weight * other.loss,
            (extra.keys + other.extra.keys).associateWith {
                (extra[it] ?: 0.0) + weight * (other.extra[it] ?: 0.0)
            },
        )

    public companion object {
        public val Zero: StepLoss = StepLoss(0.0)
    }
}
