package looplab.pipelines.train

import looplab.pipelines.metrics.EvalMetrics

/** Measures the model during a stage; the loop calls it when [due] and at the stage's last step. */
public interface Evaluation {
    public fun due(step: Long): Boolean

    /**
     * Measures the model after [step] steps (and lets a curriculum decide from what it measured).
     */
    public fun evaluate(step: Long): EvalMetrics
}
