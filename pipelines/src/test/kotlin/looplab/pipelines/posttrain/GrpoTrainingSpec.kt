package looplab.pipelines.posttrain

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import looplab.pipelines.bench.GrpoLearning
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.train.StopRequest
import looplab.pipelines.train.TrainingInterruptedException

class GrpoTrainingSpec :
    FunSpec({
        test(
            "a GRPO run stopped between the two updates of a generation batch resumes to the same curve, bit for bit"
        ) {
            val learning =
                GrpoLearning(
                    warmupSteps = 20,
                    stage =
                        GrpoLearning.defaultStage(batches = 4, updatesPerBatch = 2)
                            .copy(evalEvery = looplab.dsl.Steps(2), evalSamples = 16),
                )
            fun curve(steps: List<TrainMetrics>) =
                steps.map { m ->
                    listOf(m.step.toDouble(), m.loss, m.gradNorm) +
                        m.extra
                            .filterKeys { "seconds" !in it && "per_second" !in it }
                            .toSortedMap()
                            .values
                }
            val whole = Files.createTempDirectory("grpo-whole")
            val expected = learning.run(seed = 5, dir = whole.resolve("ckpt"))

            val split = Files.createTempDirectory("grpo-split")
            val stop = StopRequest()
            val before = mutableListOf<TrainMetrics>()
            shouldThrow<TrainingInterruptedException> {
                learning.run(
                    seed = 5,
                    dir = split.resolve("ckpt"),
                    stop = stop,
                    listener =
                        object : TrainingListener {
                            override fun stepped(metrics: TrainMetrics, logged: Boolean) {
                                before += metrics
                                if (metrics.step == 3L) stop.request("TEST")
                            }
                        },
                )
            }
            before.size shouldBe 3
            Files.exists(split.resolve("ckpt/rollout.bin")) shouldBe true
            val resumed = learning.run(seed = 5, dir = split.resolve("ckpt"), resume = true)
            curve(before + resumed.steps) shouldBe curve(expected.steps)
            resumed.accuracyAfter shouldBe expected.accuracyAfter
            whole.toFile().deleteRecursively()
            split.toFile().deleteRecursively()
        }
    })
