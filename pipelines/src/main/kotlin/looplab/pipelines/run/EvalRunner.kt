package looplab.pipelines.run

import looplab.dsl.EvalSpec
import looplab.pipelines.eval.SuiteOutcome
import looplab.pipelines.eval.SuiteSettings
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.LanguageScore

/**
 * Measures the weights an earlier stage produced with the suites the stage names (see
 * [looplab.pipelines.eval.EvalHub]).
 */
internal class EvalRunner(private val stage: EvalSpec) : StageRunner {
    override fun run(variant: VariantContext) =
        with(variant) {
            loadWeightsOf(stage.from)
            val settings = SuiteSettings.of(stage)
            val checksum = dir.checkpoint(spec.name, stage.from).weightsChecksum()
            val measured =
                SuiteSettings.named(stage).mapNotNull { suite ->
                    when (
                        val outcome =
                            hub.measure(
                                suite,
                                settings,
                                spec,
                                model,
                                store,
                                stage.id,
                                stage.from,
                                checksum,
                            )
                    ) {
                        is SuiteOutcome.Measured -> {
                            outcome.plot?.let {
                                dir.write("${suite.id}_${spec.name}_${stage.id}.png", it)
                            }
                            suite to outcome.entry
                        }
                        is SuiteOutcome.Skipped ->
                            null.also {
                                terminal.println(
                                    "[${spec.name}] ${stage.id}: ${suite.id} not measured: ${outcome.reason}"
                                )
                            }
                    }
                }
            if (measured.isEmpty()) return
            val cells = measured.firstNotNullOfOrNull { it.second.cells }
            val score =
                measured
                    .firstNotNullOfOrNull { it.second.language }
                    ?.let {
                        LanguageScore(
                            it.loss,
                            it.perplexity,
                            it.bitsPerByte,
                            it.tokens,
                            it.gzipBitsPerByte,
                        )
                    }
            listeners.evaluated(
                EvalMetrics(
                    spec.name,
                    stage.id,
                    step = 0,
                    validationLoss = null,
                    accuracy = cells.orEmpty(),
                    language = score,
                )
            )
            results += measured
        }
}
