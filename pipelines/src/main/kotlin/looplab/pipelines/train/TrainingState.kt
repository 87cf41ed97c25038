package looplab.pipelines.train

import kotlinx.serialization.Serializable
import looplab.curriculum.schedule.TaskCurriculumState

/** Where a training stage stands: enough, with the tensors, to resume it exactly. */
@Serializable
public data class TrainingState(
    val variant: String,
    val stage: String,
    /** Optimizer steps completed. */
    val step: Long,
    val totalSteps: Long,
    val tokens: Long,
    val elapsedSeconds: Double,
    val complete: Boolean,
    /** The optimizer's own step count (its bias corrections depend on it). */
    val optimizerSteps: Long = 0,
    /**
     * What the task curriculum had decided at this step; restoring it makes a resumed run decide
     * the same.
     */
    val curriculum: TaskCurriculumState? = null,
    /** The learning-rate multiplier left by skipped non-finite steps, and how many were skipped. */
    val lrScale: Double = 1.0,
    val skippedSteps: Int = 0,
)
