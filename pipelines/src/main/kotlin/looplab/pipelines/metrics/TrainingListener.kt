package looplab.pipelines.metrics

/** Hears what a training stage does: the run record, progress display and plots are listeners. */
public interface TrainingListener {
    public fun started(variant: String, stage: String, totalSteps: Long, startStep: Long) {}

    /**
     * After every optimizer step; [logged] is true when this step's line goes to `metrics.jsonl`.
     */
    public fun stepped(metrics: TrainMetrics, logged: Boolean) {}

    public fun evaluated(metrics: EvalMetrics) {}

    public fun finished(variant: String, stage: String) {}
}

/** Forwards every event to each of [listeners] in order. */
public class Listeners(private val listeners: List<TrainingListener>) : TrainingListener {
    override fun started(variant: String, stage: String, totalSteps: Long, startStep: Long): Unit =
        listeners.forEach { it.started(variant, stage, totalSteps, startStep) }

    override fun stepped(metrics: TrainMetrics, logged: Boolean): Unit =
        listeners.forEach { it.stepped(metrics, logged) }

    override fun evaluated(metrics: EvalMetrics): Unit = listeners.forEach { it.evaluated(metrics) }

    override fun finished(variant: String, stage: String): Unit =
        listeners.forEach { it.finished(variant, stage) }
}
