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
public data class ConstantLr(override val peak: Double, override val warmup: Steps = NO_WARMUP) :
    LrSchedule

/**
 * Linear warmup to [peak], then cosine decay to `peak * floor` at the end of the stage's budget
 * (nanoGPT's schedule; the floor keeps late steps useful).
 */
@Serializable
@SerialName("cosine")
public data class CosineLr(
    override val peak: Double,
    override val warmup: Steps = NO_WARMUP,
    val floor: Double = 0.1,
) : LrSchedule

/** Linear warmup to [peak], then a straight line down to `peak * floor` at the end of the stage. */
@Serializable
@SerialName("linear")
public data class LinearLr(
    override val peak: Double,
    override val warmup: Steps = NO_WARMUP,
    val floor: Double = 0.0,
) : LrSchedule

/** How the decay phase of a [WsdLr] falls from the peak to the floor. */
@Serializable
public enum class DecayShape {
    /** A straight line. */
    Linear,

    /** Half a cosine. */
    Cosine,

    /** `1 - sqrt(progress)`: falls fast at first, then slowly (MiniCPM's choice). */
    Sqrt,
}

/**
 * Warmup-stable-decay: linear warmup to [peak], the peak held, then a decay to `peak * floor` over
 * the last [decayFraction] of the stage. A run can be extended from a stable-phase checkpoint and
 * decayed later, which cosine's budget-dependent shape does not allow.
 */
@Serializable
@SerialName("wsd")
public data class WsdLr(
    override val peak: Double,
    override val warmup: Steps = NO_WARMUP,
    /** Share of the stage's steps spent decaying, at its end. */
    val decayFraction: Double = 0.2,
    val shape: DecayShape = DecayShape.Linear,
    val floor: Double = 0.0,
) : LrSchedule

/** Every schedule starts at its peak unless it names a warmup. */
private val NO_WARMUP = Steps(0)

// The functions below are the DSL's spelling of the schedules; each default is read from its spec.

/** A straight line from [peak] to `peak * floor` after [warmup] steps of linear warmup. */
public fun linear(
    peak: Double,
    warmup: Steps = NO_WARMUP,
    floor: Double = LinearLr(peak).floor,
): LinearLr = LinearLr(peak, warmup, floor)

/** Warmup, a stable peak, then a decay of [shape] over the last [decayFraction] of the stage. */
public fun wsd(
    peak: Double,
    warmup: Steps = NO_WARMUP,
    decayFraction: Double = WsdLr(peak).decayFraction,
    shape: DecayShape = WsdLr(peak).shape,
    floor: Double = WsdLr(peak).floor,
): WsdLr = WsdLr(peak, warmup, decayFraction, shape, floor)

/** Cosine decay after [warmup] steps of linear warmup; ends at `peak * floor`. */
public fun cosine(
    peak: Double,
    warmup: Steps = NO_WARMUP,
    floor: Double = CosineLr(peak).floor,
): CosineLr = CosineLr(peak, warmup, floor)

/** A constant rate after [warmup] steps of linear warmup. */
public fun constant(peak: Double, warmup: Steps = NO_WARMUP): ConstantLr = ConstantLr(peak, warmup)
