package looplab.pipelines.run

import looplab.dsl.EvalSpec
import looplab.pipelines.metrics.EvalMetrics

/** Measures the weights an earlier stage produced: the accuracy grid and held-out perplexity. */
internal class EvalRunner(private val stage: EvalSpec) : StageRunner {
    override fun run(variant: VariantContext) = with(variant) {
        loadWeightsOf(stage.from)
        val cells = stage.algorithmic?.takeIf { data.mixture != null }?.let { evaluator.evaluate(data.mixture!!.tasks, it.samples, it.maxNewTokens) }
        val score = stage.language?.let { languageEvaluator?.evaluate(it.maxTokens) }
        if (cells == null && score == null) return
        listeners.evaluated(EvalMetrics(spec.name, stage.id, step = 0, validationLoss = null, accuracy = cells.orEmpty(), language = score))
        if (cells != null) results += VariantResults(spec.name, stage.id, stage.from, cells)
    }
}
