package looplab.examples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import kotlinx.serialization.json.Json
import looplab.dsl.ExperimentSpec
import looplab.dsl.PipelineSpec
import looplab.dsl.PretrainSpec
import looplab.dsl.Steps
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner

/**
 * The example's CPU default, trained for [steps] steps with a one-sample evaluation at the end and
 * no eval stage.
 */
private fun ExperimentSpec.shortened(steps: Long): ExperimentSpec {
    val pretrain = pipeline.stages.filterIsInstance<PretrainSpec>().first()
    return copy(
        pipeline = PipelineSpec(listOf(pretrain.copy(budget = Steps(steps), evalSamples = 1)))
    )
}

class ExampleTrainingSpec :
    FunSpec({
        val runs = Files.createTempDirectory("examples")
        val json = Json {
            classDiscriminator = "type"
            ignoreUnknownKeys = true
        }

        for (example in BuiltInExamples.examples().filter { it.full != null }) {
            test(
                "${example.name}: every variant's training loss halves within 150 steps on the CPU default"
            ) {
                val result = Runner().run(example.spec().shortened(150), RunOptions(runsDir = runs))
                result.succeeded shouldBe true
                for (variant in result.summary.variants) {
                    val stage = variant.stages.getValue("pretrain")
                    io.kotest.assertions.withClue(
                        "${variant.name}: ${stage.firstLoss} -> ${stage.finalLoss}"
                    ) {
                        stage.finalLoss!! shouldBeLessThan stage.firstLoss!! / 2
                    }
                }
                if (example.name == "crt-v2") {
                    // Intermediate supervision is visible in the record: each auxiliary head's
                    // loss, every logged step.
                    val train =
                        Files.readAllLines(result.dir.resolve("metrics.jsonl"))
                            .map { json.decodeFromString(MetricEvent.serializer(), it) }
                            .filterIsInstance<TrainMetrics>()
                    train.forEach {
                        it.extra.keys shouldContainAll
                            listOf("aux.loop2", "aux.loop4", "aux.loop6", "lm_loss", "loop_rms.8")
                    }
                }
            }
        }
    })
