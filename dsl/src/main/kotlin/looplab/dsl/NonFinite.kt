package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/**
 * What a pretraining stage does when a step's loss or gradient is NaN or infinite. No checkpoint is
 * ever written from such a state, whichever is chosen.
 */
@Serializable public sealed interface OnNonFinite

/** Stop the variant (the default): it is recorded as diverged, its last checkpoint is kept. */
@Serializable @SerialName("stop") public data object StopOnNonFinite : OnNonFinite

/**
 * Skip the step (no update) and multiply the learning rate by [lrFactor] from then on, at most
 * [maxSkips] times in the stage; one more non-finite step stops the variant.
 */
@Serializable
@SerialName("skip")
public data class SkipNonFinite(val maxSkips: Int = 3, val lrFactor: Double = 0.5) : OnNonFinite
