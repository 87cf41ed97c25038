package looplab.pipelines.run

import kotlinx.serialization.json.Json
import looplab.pipelines.plan.Plan
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.metrics.meanByTask
import java.time.LocalDateTime

/**
 * Keeps the run folder current: appends `metrics.jsonl` as training goes, and at each evaluation
 * redraws `loss.png` / `accuracy.png` and rewrites `summary.json`.
 */
public class RunRecorder(private val dir: RunDirectory, private val plan: Plan, history: List<MetricEvent> = emptyList()) : TrainingListener {
    private val events = history.toMutableList()
    private val variants = LinkedHashMap<String, VariantSummary>().apply {
        plan.models.forEach { put(it.name, VariantSummary(it.name, it.physicalParams, it.effectiveParams)) }
    }
    private var status = "running"

    /** The last logged (step, loss) pairs of the stage in training, and which stage that is. */
    private val recentLosses = ArrayDeque<Pair<Long, Double>>()
    private var recentStage: Pair<String, String>? = null

    init {
        // A resumed run's summary starts from what the earlier attempts recorded, so it reads as one run.
        history.forEach { event ->
            when (event) {
                is TrainMetrics -> summarizeStep(event)
                is EvalMetrics -> summarizeEval(event)
            }
        }
    }

    override fun started(variant: String, stage: String, totalSteps: Long, startStep: Long) {
        // Steps after the checkpoint that an interrupted attempt logged are trained again: forget their losses.
        if (recentStage != variant to stage) recentLosses.clear() else recentLosses.removeAll { it.first > startStep }
        recentStage = variant to stage
    }

    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
        if (!logged) return
        record(metrics)
        summarizeStep(metrics)
    }

    private fun summarizeStep(metrics: TrainMetrics) {
        if (recentStage != metrics.variant to metrics.stage) recentLosses.clear()
        recentStage = metrics.variant to metrics.stage
        recentLosses.addLast(metrics.step to metrics.loss)
        if (recentLosses.size > 5) recentLosses.removeFirst()
        update(metrics.variant) { v ->
            val stage = v.stages[metrics.stage] ?: StageSummary("pretrain", firstLoss = metrics.loss)
            v.copy(status = "training ${metrics.stage}", stages = v.stages + (metrics.stage to stage.copy(
                steps = metrics.step, tokens = metrics.tokens, trainSeconds = metrics.elapsedSeconds, tokensPerSecond = metrics.tokensPerSecond,
                finalLoss = recentLosses.map { it.second }.average(),
            )))
        }
    }

    override fun evaluated(metrics: EvalMetrics) {
        record(metrics)
        summarizeEval(metrics)
        refresh()
    }

    private fun summarizeEval(metrics: EvalMetrics) {
        update(metrics.variant) { v ->
            val stage = v.stages[metrics.stage] ?: StageSummary("eval")
            v.copy(stages = v.stages + (metrics.stage to stage.copy(
                validationLoss = metrics.validationLoss ?: stage.validationLoss,
                iidAccuracy = metrics.accuracy.meanByTask("iid").ifEmpty { stage.iidAccuracy },
                oodAccuracy = metrics.accuracy.meanByTask("ood").ifEmpty { stage.oodAccuracy },
                perplexity = metrics.language?.perplexity ?: stage.perplexity,
                bitsPerByte = metrics.language?.bitsPerByte ?: stage.bitsPerByte,
            )))
        }
    }

    /** Notes the result of the pre-training model checks of [variant]. */
    public fun checked(variant: String, results: List<String>): Unit = update(variant) { it.copy(checks = results) }

    public fun variantDone(variant: String): Unit = update(variant) { it.copy(status = "complete") }

    public fun variantInterrupted(variant: String): Unit = update(variant) { it.copy(status = "interrupted") }

    public fun variantFailed(variant: String, error: String) {
        update(variant) { it.copy(status = "failed", error = error) }
        refresh()
    }

    /** Marks the run finished ("complete" or "failed") and writes everything a last time. */
    public fun close(finalStatus: String) {
        status = finalStatus
        refresh()
    }

    public fun summary(): RunSummary = RunSummary(plan.experiment.name, status, LocalDateTime.now().toString(), variants.values.toList())

    private fun record(event: MetricEvent) {
        events += event
        dir.append("metrics.jsonl", compact.encodeToString(MetricEvent.serializer(), event))
    }

    private fun update(variant: String, change: (VariantSummary) -> VariantSummary) {
        variants[variant] = change(variants.getValue(variant))
    }

    private fun refresh() {
        dir.write("summary.json", pretty.encodeToString(RunSummary.serializer(), summary()) + "\n")
        dir.write("loss.png", Plots.loss(events, uniformLoss = kotlin.math.ln(plan.vocabSize.toDouble())))
        dir.write("accuracy.png", Plots.accuracy(events, plan.data.tasks.associate { it.task to (it.chanceIid to it.chanceOod) }))
    }

    internal companion object {
        // NaN and infinity are written as such: a diverging run must still be recorded.
        val compact = Json { classDiscriminator = "type"; encodeDefaults = true; allowSpecialFloatingPointValues = true }
        val pretty = Json { prettyPrint = true; classDiscriminator = "type"; encodeDefaults = true; allowSpecialFloatingPointValues = true }
    }
}
