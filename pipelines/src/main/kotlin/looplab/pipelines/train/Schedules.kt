package looplab.pipelines.train

import looplab.dsl.ConstantLr
import looplab.dsl.CosineLr
import looplab.dsl.LrSchedule
import kotlin.math.PI
import kotlin.math.cos

/** The learning rate at 0-based [step] of a stage that runs [totalSteps] steps. */
public fun LrSchedule.rateAt(step: Long, totalSteps: Long): Double = when {
    step < warmup.steps -> peak * (step + 1) / warmup.steps
    else -> when (this) {
        is ConstantLr -> peak
        is CosineLr -> {
            val progress = ((step - warmup.steps).toDouble() / (totalSteps - warmup.steps).coerceAtLeast(1)).coerceIn(0.0, 1.0)
            peak * (floor + (1 - floor) * 0.5 * (1 + cos(PI * progress)))
        }
    }
}
