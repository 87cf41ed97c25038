package looplab.pipelines.run

import java.time.LocalDateTime
import kotlinx.serialization.json.Json
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.metrics.meanByTask
import looplab.pipelines.plan.Plan

/**
 * Keeps the run folder current: appends `metrics.jsonl` as training goes, and at each evaluation
 * redraws `loss.png` / `accuracy.png` (and `posttrain.png` with SFT or GRPO stages) and rewrites
 * `summary.json`.
 *
 * A resumed run passes the events already recorded as [history]: they are replayed into the summary
 * (so variants finished before the interruption keep their figures, and a stage keeps its first
 * loss), and the steps a resumed stage will train again are dropped from the record when it starts,
 * so `metrics.jsonl` never holds a step twice.
 */
public class RunRecorder(
    private val dir: RunDirectory,
    private val plan: Plan,
    history: List<MetricEvent> = emptyList(),
) : TrainingListener {
    private val events = mutableListOf<MetricEvent>()
    private val variants =
        LinkedHashMap<String, VariantSummary>().apply {
            plan.models.forEach {
                put(it.name, VariantSummary(it.name, it.physicalParams, it.effectiveParams))
            }
        }
    private var status = "running"

    /**
     * The last logged losses of each variant's stage, for a final loss less noisy than one step's.
     */
    private val recentLosses = HashMap<Pair<String, String>, ArrayDeque<Double>>()

    init {
        history.forEach { event ->
            events += event
            when (event) {
                is TrainMetrics -> summarise(event)
                is EvalMetrics -> summarise(event)
            }
        }
    }

    override fun started(variant: String, stage: String, totalSteps: Long, startStep: Long) {
        // Steps after the checkpoint the stage resumes from are trained (and recorded) again.
        val redone =
            events.filter { it.variant == variant && it.stage == stage && it.step > startStep }
        if (redone.isNotEmpty()) {
            events.removeAll(redone.toSet())
            rewriteMetrics()
        }
        val recent = recentLosses.getOrPut(variant to stage) { ArrayDeque() }
        recent.clear()
        events
            .filterIsInstance<TrainMetrics>()
            .filter { it.variant == variant && it.stage == stage }
            .takeLast(RECENT)
            .forEach { recent.addLast(it.loss) }
    }

    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
        if (!logged) return
        record(metrics)
        summarise(metrics)
    }

    override fun evaluated(metrics: EvalMetrics) {
        // An eval stage measured again on resume replaces its earlier record.
        val earlier =
            events.filter {
                it is EvalMetrics &&
                    it.variant == metrics.variant &&
                    it.stage == metrics.stage &&
                    it.step == metrics.step
            }
        if (earlier.isNotEmpty()) {
            events.removeAll(earlier.toSet())
            rewriteMetrics()
        }
        record(metrics)
        summarise(metrics)
        refresh()
    }

    /** Notes the result of the pre-training model checks of [variant]. */
    public fun checked(variant: String, results: List<String>): Unit =
        update(variant) { it.copy(checks = results) }

    public fun variantDone(variant: String): Unit =
        update(variant) { it.copy(status = "complete", error = null) }

    public fun variantInterrupted(variant: String): Unit =
        update(variant) { it.copy(status = "interrupted") }

    public fun variantFailed(variant: String, error: String) {
        update(variant) { it.copy(status = "failed", error = error) }
        refresh()
    }

    /** Marks the run finished ("complete" or "failed") and writes everything a last time. */
    public fun close(finalStatus: String) {
        status = finalStatus
        refresh()
    }

    public fun summary(): RunSummary =
        RunSummary(
            plan.experiment.name,
            status,
            LocalDateTime.now().toString(),
            variants.values.toList(),
        )

    private fun summarise(metrics: TrainMetrics) {
        val recent = recentLosses.getOrPut(metrics.variant to metrics.stage) { ArrayDeque() }
        recent.addLast(metrics.loss)
        if (recent.size > RECENT) recent.removeFirst()
        update(metrics.variant) { v ->
            val stage =
                v.stages[metrics.stage] ?: StageSummary("pretrain", firstLoss = metrics.loss)
            v.copy(
                status = "training ${metrics.stage}",
                stages =
                    v.stages +
                        (metrics.stage to
                            stage.copy(
                                steps = metrics.step,
                                tokens = metrics.tokens,
                                trainSeconds = metrics.elapsedSeconds,
                                tokensPerSecond = metrics.tokensPerSecond,
                                finalLoss = recent.average(),
                            )),
            )
        }
    }

    private fun summarise(metrics: EvalMetrics) =
        update(metrics.variant) { v ->
            val stage = v.stages[metrics.stage] ?: StageSummary("eval")
            v.copy(
                stages =
                    v.stages +
                        (metrics.stage to
                            stage.copy(
                                validationLoss = metrics.validationLoss ?: stage.validationLoss,
                                iidAccuracy =
                                    metrics.accuracy.meanByTask("iid").ifEmpty {
                                        stage.iidAccuracy
                                    },
                                oodAccuracy =
                                    metrics.accuracy.meanByTask("ood").ifEmpty {
                                        stage.oodAccuracy
                                    },
                                perplexity = metrics.language?.perplexity ?: stage.perplexity,
                                bitsPerByte = metrics.language?.bitsPerByte ?: stage.bitsPerByte,
                            ))
            )
        }

    private fun record(event: MetricEvent) {
        events += event
        dir.append(METRICS, compact.encodeToString(MetricEvent.serializer(), event))
    }

    /** Replaces `metrics.jsonl` (atomically) with the events kept. */
    private fun rewriteMetrics() {
        dir.write(
            METRICS,
            events.joinToString("") { compact.encodeToString(MetricEvent.serializer(), it) + "\n" },
        )
    }

    private fun update(variant: String, change: (VariantSummary) -> VariantSummary) {
        val current =
            variants[variant] ?: return // a recorded variant the plan no longer has is left out
        variants[variant] = change(current)
    }

    private fun refresh() {
        dir.write("summary.json", pretty.encodeToString(RunSummary.serializer(), summary()) + "\n")
        dir.write(
            "loss.png",
            Plots.loss(events, uniformLoss = kotlin.math.ln(plan.vocabSize.toDouble())),
        )
        dir.write(
            "accuracy.png",
            Plots.accuracy(
                events,
                plan.data.tasks.associate { it.task to (it.chanceIid to it.chanceOod) },
            ),
        )
        PostTrainingPlot.draw(events)?.let { dir.write("posttrain.png", it) }
    }

    internal companion object {
        const val METRICS = "metrics.jsonl"
        const val RECENT = 5
        // NaN and infinity are written as such: a diverging run must still be recorded.
        val compact = Json {
            classDiscriminator = "type"
            encodeDefaults = true
            allowSpecialFloatingPointValues = true
        }
        val pretty = Json {
            prettyPrint = true
            classDiscriminator = "type"
            encodeDefaults = true
            allowSpecialFloatingPointValues = true
        }
    }
}
