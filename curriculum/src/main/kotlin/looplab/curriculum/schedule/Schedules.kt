package looplab.curriculum.schedule

import kotlin.random.Random
import looplab.curriculum.data.Seeds

/** One phase of a split curriculum, fixed in optimizer steps when the experiment is planned. */
public data class StepPhase(
    /**
     * The first step after this phase; the last phase runs to the end of training whatever it says.
     */
    val until: Long,
    val algorithmic: Double,
    val language: Double,
    /** Weight overrides by task name. */
    val taskWeights: Map<String, Double> = emptyMap(),
)

/**
 * The split curriculum as a function of the batch index: which phase a batch belongs to, and
 * whether it is a language batch (drawn from (seed, index) by the phase's weights). Token budgets
 * become step boundaries at plan time, so a batch never depends on how many tokens came before it.
 */
public class SplitSchedule(public val phases: List<StepPhase>, private val seed: Long) {
    init {
        require(phases.isNotEmpty()) { "a split schedule needs at least one phase" }
    }

    public fun phaseAt(index: Long): StepPhase =
        phases.firstOrNull { index < it.until } ?: phases.last()

    public fun isLanguage(index: Long): Boolean {
        val phase = phaseAt(index)
        if (phase.language == 0.0) return false
        if (phase.algorithmic == 0.0) return true
        return Random(Seeds.mix(seed, SOURCE_STREAM, index)).nextDouble() *
            (phase.algorithmic + phase.language) >= phase.algorithmic
    }

    private companion object {
        const val SOURCE_STREAM = 0x53504C54L
    }
}

/**
 * Progressive sequence length: [steps] are (first step, length) in increasing order; before the
 * first, [initial].
 */
public class SequenceSchedule(
    private val initial: Int,
    private val steps: List<Pair<Long, Int>> = emptyList(),
) {
    public fun lengthAt(index: Long): Int =
        steps.lastOrNull { index >= it.first }?.second ?: initial

    /** Every length the schedule uses. */
    public val lengths: List<Int>
        get() = (listOf(initial) + steps.map { it.second }).distinct()
}
