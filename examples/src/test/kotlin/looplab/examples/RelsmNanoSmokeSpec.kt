package looplab.examples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import looplab.dsl.*
import looplab.pipelines.eval.EvalHub
import looplab.pipelines.eval.Suite
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner

/**
 * `relsm-nano` as written for the GPU, shrunk to CPU size and nothing else changed: width 64, 6,000
 * tokens, 32 examples per algorithmic batch, sequences of 128, a handful of evaluation problems.
 * GPU time is scarce; a run that fails there on anything but the GPU is caught here.
 */
private fun ExperimentSpec.cpuSmoke(): ExperimentSpec {
    val pretrain = pipeline.stages.filterIsInstance<PretrainSpec>().single()
    val eval = pipeline.stages.filterIsInstance<EvalSpec>().single()
    val lr = pretrain.lr as CosineLr
    return copy(
        device = Cpu,
        seed = 1,
        seeds = emptyList(),
        data =
            data.copy(
                algorithmic = data.algorithmic!!.copy(examplesPerBatch = 32),
                language = data.language!!.copy(sequenceLength = 128),
                curriculum =
                    data.curriculum!!.copy(
                        phases = data.curriculum!!.phases.map { it.copy(tokens = 3_000) }
                    ),
            ),
        models = models.map { it.copy(width = 64, heads = 2, ffnHidden = 128) },
        pipeline =
            PipelineSpec(
                listOf(
                    pretrain.copy(
                        budget = Tokens(6_000),
                        batchSize = 4,
                        lr = lr.copy(warmup = Steps(2)),
                        evalEvery = Steps(20),
                        evalSamples = 1,
                    ),
                    eval.copy(
                        algorithmic = eval.algorithmic!!.copy(samples = 2),
                        language = eval.language!!.copy(maxTokens = 2_048),
                        needles =
                            eval.needles!!.copy(
                                lengths = listOf(256, 1_000),
                                depths = listOf(0.5),
                                samples = 1,
                            ),
                        loops = eval.loops!!.copy(samples = 2, maxTokens = 1_024),
                    ),
                )
            ),
    )
}

class RelsmNanoSmokeSpec :
    FunSpec({
        test(
            "relsm-nano at CPU size: every variant trains through both phases and every suite measures it"
        ) {
            val spec = relsmNano.cpuSmoke()
            val result =
                Runner()
                    .run(
                        spec,
                        RunOptions(runsDir = Files.createTempDirectory("relsm"), quiet = true),
                    )
            result.succeeded shouldBe true
            val variants = spec.models.map { it.name }.toSet()
            variants.size shouldBe 7
            for (suite in listOf(Suite.Algorithmic, Suite.LongCtx, Suite.Lm, Suite.Loops)) {
                val results = EvalHub.read(result.dir, suite)!!.results
                io.kotest.assertions.withClue(suite) {
                    results.map { it.variant }.toSet() shouldBe variants
                }
            }
            for (variant in result.summary.variants) {
                val pretrain = variant.stages.getValue("pretrain")
                io.kotest.assertions.withClue(variant.name) {
                    pretrain.finalLoss!!.isFinite() shouldBe true
                }
            }
        }
    })
