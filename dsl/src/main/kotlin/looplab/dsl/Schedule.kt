package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** A learning-rate schedule: the rate at each optimizer step. */
@Serializable
public sealed interface LrSchedule {
    /** The highest rate the schedule reaches. */
    public val peak: Double

    /** Steps of linear warmup to [peak] at the start of the stage. */
    public val warmup: Steps
}

/** The same rate at every step after a linear warmup. */
@Serializable
@SerialName("constant")
public data class ConstantLr(override val peak: Double, override val warmup: Steps = Steps(0)) : LrSchedule

/**
 * Linear warmup to [peak], then cosine decay to `peak * floor` at the end of the stage's budget
 * (nanoGPT's schedule; the floor keeps late steps useful).
 */
@Serializable
@SerialName("cosine")
public data class CosineLr(
    override val peak: Double,
    override val warmup: Steps = Steps(0),
    val floor: Double = 0.1,
) : LrSchedule

/** Cosine decay after [warmup] steps of linear warmup; ends at `peak * floor`. */
public fun cosine(peak: Double, warmup: Steps = Steps(0), floor: Double = 0.1): CosineLr =
    CosineLr(peak, warmup, floor)

/** A constant rate after [warmup] steps of linear warmup. */
public fun constant(peak: Double, warmup: Steps = Steps(0)): ConstantLr = ConstantLr(peak, warmup)
