package looplab.pipelines.run

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.shouldBe
import java.io.ByteArrayInputStream
import javax.imageio.ImageIO
import looplab.pipelines.metrics.AccuracyCell
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.TrainMetrics

class PostTrainingPlotSpec :
    FunSpec({
        fun train(stage: String, step: Long, extra: Map<String, Double> = emptyMap()) =
            TrainMetrics("m", stage, step, 1.0, 1e-3, 1.0, step * 10, 100.0, step.toDouble(), extra)

        fun chat(stage: String, step: Long, right: Int) =
            EvalMetrics(
                "m",
                stage,
                step,
                null,
                listOf(
                    AccuracyCell("format", 0, "iid", 10, 10),
                    AccuracyCell("answer", 0, "iid", right, 10),
                ),
            )

        test("a run without SFT or GRPO metrics gets no post-training plot") {
            PostTrainingPlot.draw(listOf(train("pretrain", 1), train("pretrain", 2))).shouldBeNull()
        }

        test("GRPO rewards and held-out answers make two panels of one PNG") {
            val events =
                listOf(chat("sft", 0, 0), chat("sft", 50, 4)) +
                    (1L..30L).map {
                        train("grpo", it, mapOf("reward_mean" to it / 30.0, "accuracy" to 0.5))
                    } +
                    listOf(chat("grpo", 0, 4), chat("grpo", 30, 6), chat("eval-grpo", 0, 6))
            val image = ImageIO.read(ByteArrayInputStream(PostTrainingPlot.draw(events)!!))
            image.width shouldBe 1800
            image.height shouldBe 600
        }
    })
