package looplab.pipelines.train

import kotlin.math.PI
import kotlin.math.ceil
import kotlin.math.cos
import kotlin.math.sqrt
import looplab.dsl.ConstantLr
import looplab.dsl.CosineLr
import looplab.dsl.DecayShape
import looplab.dsl.LinearLr
import looplab.dsl.LrSchedule
import looplab.dsl.WsdLr

/** The learning rate at 0-based [step] of a stage that runs [totalSteps] steps. */
public fun LrSchedule.rateAt(step: Long, totalSteps: Long): Double =
    when {
        step < warmup.steps -> peak * (step + 1) / warmup.steps
        else ->
            when (this) {
                is ConstantLr -> peak
                is CosineLr ->
                    peak *
                        (floor +
                            (1 - floor) *
                                DecayShape.Cosine.remaining(
                                    progress(step, warmup.steps, totalSteps)
                                ))
                is LinearLr ->
                    peak *
                        (floor +
                            (1 - floor) *
                                DecayShape.Linear.remaining(
                                    progress(step, warmup.steps, totalSteps)
                                ))
                is WsdLr -> {
                    // The decay takes the last decayFraction of the stage, never the warmup.
                    val decayStart =
                        maxOf(warmup.steps, totalSteps - ceil(decayFraction * totalSteps).toLong())
                    if (step < decayStart) peak
                    else
                        peak *
                            (floor +
                                (1 - floor) *
                                    shape.remaining(progress(step, decayStart, totalSteps)))
                }
            }
    }

/** How far [step] is through the steps from [from] to [until], within 0..1. */
private fun progress(step: Long, from: Long, until: Long): Double =
    ((step - from).toDouble() / (until - from).coerceAtLeast(1)).coerceIn(0.0, 1.0)

/** The share of the decay still to go at [progress] (1 at the start, 0 at the end). */
private fun DecayShape.remaining(progress: Double): Double =
    when (this) {
        DecayShape.Linear -> 1 - progress
        DecayShape.Cosine -> 0.5 * (1 + cos(PI * progress))
        DecayShape.Sqrt -> 1 - sqrt(progress)
    }
