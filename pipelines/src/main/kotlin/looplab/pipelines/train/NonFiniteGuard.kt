package looplab.pipelines.train

import looplab.dsl.OnNonFinite
import looplab.dsl.SkipNonFinite
import looplab.dsl.StopOnNonFinite

/** Training stopped because the loss stopped being a number; the last checkpoint is kept. */
public class TrainingDivergedException(message: String) :
    RuntimeException(message), looplab.dsl.UserFacingError

/**
 * Decides what a step with a NaN or infinite loss or gradient norm means, as the stage's
 * [OnNonFinite] says: stop, or skip the step and scale the learning rate down, a bounded number of
 * times. Its [lrScale] and [skipped] count are saved in checkpoints, so a resumed run continues
 * with them.
 */
internal class NonFiniteGuard(
    private val policy: OnNonFinite,
    private val where: String,
    lrScale: Double = 1.0,
    skipped: Int = 0,
) {
    var lrScale: Double = lrScale
        private set

    var skipped: Int = skipped
        private set

    /**
     * Returns normally when [loss] and [gradNorm] are finite (null: not computed yet); otherwise
     * returns after counting a skip, or throws [TrainingDivergedException] with [lastCheckpoint] in
     * its message.
     */
    fun check(step: Long, loss: Double, gradNorm: Double?, lastCheckpoint: () -> Long?): Boolean {
        val what =
            when {
                !loss.isFinite() -> "the loss is $loss"
                gradNorm != null && !gradNorm.isFinite() ->
                    "the gradient norm is $gradNorm (the update was not applied)"
                else -> return true
            }
        return when (policy) {
            StopOnNonFinite -> diverged(step, what, lastCheckpoint())
            is SkipNonFinite -> {
                if (skipped >= policy.maxSkips)
                    diverged(
                        step,
                        "$what, after ${policy.maxSkips} skipped steps",
                        lastCheckpoint(),
                    )
                skipped += 1
                lrScale *= policy.lrFactor
                false
            }
        }
    }

    /** A held-out loss that is not finite means the weights are gone: stop, whatever the policy. */
    fun checkValidation(step: Long, loss: Double?, lastCheckpoint: () -> Long?) {
        if (loss != null && !loss.isFinite())
            diverged(
                step - 1,
                "the held-out loss is $loss; no checkpoint is written from this state",
                lastCheckpoint(),
            )
    }

    private fun diverged(step: Long, what: String, last: Long?): Nothing =
        throw TrainingDivergedException(
            "$where diverged at step ${step + 1}: $what. " +
                (if (last != null) "The last checkpoint (step $last) is kept; "
                else "No checkpoint had been written yet; ") +
                "try a lower learning rate, or onNonFinite = SkipNonFinite(...) in the stage."
        )
}
