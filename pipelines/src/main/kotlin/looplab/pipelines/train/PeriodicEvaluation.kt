package looplab.pipelines.train

import looplab.curriculum.schedule.TaskCurriculum
import looplab.dsl.TaskId
import looplab.pipelines.metrics.AccuracyCell
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.LanguageScore

/**
 * A pretraining stage's evaluation every [every] steps: held-out loss, the accuracy grid and
 * held-out perplexity; the curriculum then decides from the accuracies.
 */
public class PeriodicEvaluation(
    private val variant: String,
    private val stage: String,
    private val every: Long?,
    /** Held-out loss; null when there are no held-out batches. */
    private val validationLoss: () -> Double?,
    /** Measures the model as it is now (accuracy grid). */
    private val accuracy: (step: Long) -> List<AccuracyCell> = { emptyList() },
    /** Held-out perplexity and bits per byte; null without language data. */
    private val language: (() -> LanguageScore)? = null,
    private val curriculum: TaskCurriculum? = null,
) : Evaluation {
    override fun due(step: Long): Boolean = every != null && step % every == 0L

    override fun evaluate(step: Long): EvalMetrics {
        val cells = accuracy(step)
        val notes = curriculum?.observe(step, cells.byTaskAndLength()).orEmpty()
        return EvalMetrics(variant, stage, step, validationLoss(), cells, language?.invoke(), notes)
    }
}

/** Accuracy per task and length, as curricula read it. */
internal fun List<AccuracyCell>.byTaskAndLength(): Map<TaskId, Map<Int, Double>> =
    groupBy { TaskId(it.task) }
        .mapValues { (_, cells) -> cells.associate { it.length to it.accuracy } }
