package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/**
 * How the training data changes over a stage. Decisions are taken only at evaluation points
 * (`evalEvery`), so the batches between two of them are a pure function of (seed, index, the
 * curriculum state at the segment's start), and the state is saved with each checkpoint.
 */
@Serializable
public data class CurriculumSpec(
    /**
     * The split curriculum: phases in order, each a token count and a mixture; empty: no phases.
     */
    val phases: List<PhaseSpec> = emptyList(),
    /**
     * Per-task difficulty or unlocking; null: the tasks' weights and training ranges throughout.
     */
    val tasks: TaskCurriculumSpec? = null,
    /** Progressive language sequence length; empty: the language data's own length throughout. */
    val sequenceLength: List<SequenceLengthStep> = emptyList(),
)

/**
 * One phase of a split curriculum: [tokens] tokens with batches drawn algorithmic : language by
 * these weights.
 */
@Serializable
public data class PhaseSpec(
    val tokens: Long,
    val algorithmic: Double = 1.0,
    val language: Double = 0.0,
    /** Task weights for this phase, by task name; tasks not named keep their own weight. */
    val taskWeights: Map<String, Double> = emptyMap(),
)

/** From optimizer step [from] on, language sequences have [length] tokens. */
@Serializable public data class SequenceLengthStep(val from: Steps, val length: Int)

/** A per-task curriculum over the algorithmic tasks. */
@Serializable public sealed interface TaskCurriculumSpec

/**
 * Competence tracking: each task trains at a difficulty (a length in its training range), starting
 * at the range's minimum. At each evaluation the accuracy at that length feeds an exponential
 * moving average; the difficulty goes up one when the average reaches [raiseAt] and down one when
 * it falls to [lowerAt], but only after [minEvals] evaluations at this difficulty and [cooldown]
 * steps since the last change. A sample is drawn at an easier length with probability [jitter].
 */
@Serializable
@SerialName("competence")
public data class CompetenceSpec(
    /** Weight of the past in the moving average: ema = decay · ema + (1 − decay) · accuracy. */
    val emaDecay: Double = 0.5,
    val raiseAt: Double = 0.9,
    val lowerAt: Double = 0.3,
    val cooldown: Steps = Steps(0),
    val minEvals: Int = 2,
    val jitter: Double = 0.1,
) : TaskCurriculumSpec

/**
 * Staged unlocking: tasks of stage k + 1 join the mixture when every task of the stages before has
 * a moving-average accuracy (over its training lengths) ≥ its stage's [DagStageSpec.threshold] at
 * [patience] evaluations in a row. After an unlock, a fraction [replay] of samples come from the
 * earlier stages' tasks, the rest from the newest stage.
 */
@Serializable
@SerialName("dag")
public data class DagSpec(
    val stages: List<DagStageSpec>,
    val emaDecay: Double = 0.5,
    val patience: Int = 2,
    val replay: Double = 0.3,
) : TaskCurriculumSpec

/**
 * A stage of a [DagSpec]: [tasks] unlock together; [threshold] is what they must reach before the
 * next stage opens.
 */
@Serializable public data class DagStageSpec(val tasks: List<TaskId>, val threshold: Double = 0.9)

/** Builds a [CurriculumSpec]; every default is the spec's own. */
@LooplabDsl
public class CurriculumBuilder internal constructor() {
    private var spec = CurriculumSpec()

    /** The per-task curriculum: [competence] or [dag]. */
    public var tasks: TaskCurriculumSpec?
        get() = spec.tasks
        set(value) {
            spec = spec.copy(tasks = value)
        }

    /**
     * Adds a phase of [tokens] tokens, batches drawn algorithmic : language in the ratio of the
     * weights.
     *
     * ```
     * phase(tokens = 2.M, algorithmic = 1.0)                  // algorithmic first
     * phase(tokens = 8.M, algorithmic = 0.2, language = 0.8)  // then mostly language
     * ```
     */
    public fun phase(
        tokens: Count,
        algorithmic: Double = PHASE.algorithmic,
        language: Double = PHASE.language,
        taskWeights: Map<TaskId, Double> = PHASE.taskWeights.mapKeys { TaskId(it.key) },
    ) {
        spec =
            spec.copy(
                phases =
                    spec.phases +
                        PhaseSpec(
                            tokens.value,
                            algorithmic,
                            language,
                            taskWeights.mapKeys { it.key.name },
                        )
            )
    }

    /**
     * Language sequences of [length] tokens from step [from] on, e.g. `sequenceLength(15_000.steps,
     * 4096)`.
     */
    public fun sequenceLength(from: Steps, length: Int) {
        spec = spec.copy(sequenceLength = spec.sequenceLength + SequenceLengthStep(from, length))
    }

    /** Competence tracking per task (see [CompetenceSpec]). */
    public fun competence(
        emaDecay: Double = COMPETENCE.emaDecay,
        raiseAt: Double = COMPETENCE.raiseAt,
        lowerAt: Double = COMPETENCE.lowerAt,
        cooldown: Steps = COMPETENCE.cooldown,
        minEvals: Int = COMPETENCE.minEvals,
        jitter: Double = COMPETENCE.jitter,
    ): CompetenceSpec = CompetenceSpec(emaDecay, raiseAt, lowerAt, cooldown, minEvals, jitter)

    /** Staged unlocking (see [DagSpec]); `stage(Task.Copy, Task.Parity)` builds a stage. */
    public fun dag(
        vararg stages: DagStageSpec,
        emaDecay: Double = DAG.emaDecay,
        patience: Int = DAG.patience,
        replay: Double = DAG.replay,
    ): DagSpec = DagSpec(stages.toList(), emaDecay, patience, replay)

    /** One stage of a [dag]. */
    public fun stage(vararg tasks: TaskId, threshold: Double = DAG_STAGE.threshold): DagStageSpec =
        DagStageSpec(tasks.toList(), threshold)

    internal fun build(): CurriculumSpec = spec

    private companion object {
        // The specs hold the defaults; the builder's parameters read them from there.
        val PHASE = PhaseSpec(tokens = 0)
        val COMPETENCE = CompetenceSpec()
        val DAG = DagSpec(stages = emptyList())
        val DAG_STAGE = DagStageSpec(tasks = emptyList())
    }
}
