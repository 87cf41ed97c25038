package looplab.pipelines

import com.github.ajalt.mordant.terminal.Terminal
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner

class RunnerSpec :
    FunSpec({
        test(
            "a run leaves a complete record: plan, environment, metrics, summary, results and plots"
        ) {
            val runs = Files.createTempDirectory("runs")
            val result =
                Runner(terminal = Terminal()).run(tinyExperiment(), RunOptions(runsDir = runs))
            result.succeeded shouldBe true
            val dir = result.dir
            dir.parent shouldBe runs.resolve("tiny")
            Files.list(dir).map { it.fileName.toString() }.toList() shouldContainAll
                listOf(
                    "plan.json",
                    "env.json",
                    "metrics.jsonl",
                    "summary.json",
                    "results_algorithmic.json",
                    "loss.png",
                    "accuracy.png",
                    "checkpoints",
                )

            val json = Json {
                ignoreUnknownKeys = true
                classDiscriminator = "type"
            }
            val events =
                Files.readAllLines(dir.resolve("metrics.jsonl")).map {
                    json.decodeFromString(MetricEvent.serializer(), it)
                }
            events
                .filterIsInstance<TrainMetrics>()
                .filter { it.variant == "baseline" }
                .map { it.step } shouldBe (1L..20L).toList()
            // Periodic evaluations at steps 10 and 20, then the eval stage, for each variant.
            events.filterIsInstance<EvalMetrics>().map {
                "${it.variant}:${it.stage}:${it.step}"
            } shouldBe
                listOf(
                    "baseline:pretrain:10",
                    "baseline:pretrain:20",
                    "baseline:eval:0",
                    "shared_loop:pretrain:10",
                    "shared_loop:pretrain:20",
                    "shared_loop:eval:0",
                )

            val plan =
                Json.parseToJsonElement(Files.readString(dir.resolve("plan.json"))).jsonObject
            plan.getValue("experiment").jsonObject.getValue("name").jsonPrimitive.content shouldBe
                "tiny"
            val env = Json.parseToJsonElement(Files.readString(dir.resolve("env.json"))).jsonObject
            env.keys shouldContainAll listOf("looplabCommit", "java", "djl", "pytorch", "device")

            val results =
                Json.parseToJsonElement(Files.readString(dir.resolve("results_algorithmic.json")))
                    .jsonObject
            val meta = results.getValue("metadata").jsonObject
            meta.getValue("seed").jsonPrimitive.content shouldBe "7"
            meta.getValue("decoding").jsonObject.getValue("strategy").jsonPrimitive.content shouldBe
                "greedy"
            meta
                .getValue("decoding")
                .jsonObject
                .getValue("maxNewTokens")
                .jsonPrimitive
                .content shouldBe "8"
            meta.keys shouldContainAll listOf("commit", "gridVersion")
            val cells =
                results.getValue("results").jsonArray.flatMap {
                    it.jsonObject.getValue("cells").jsonArray
                }
            // 2 variants x (parity 4 iid + 1 ood, copy 3 iid + 1 ood)
            cells.size shouldBe 2 * 9

            val summary = Files.readString(dir.resolve("summary.json"))
            summary shouldContain "\"status\": \"complete\""
            summary shouldContain "passed: logits at ≤ t unchanged"
            for (png in listOf("loss.png", "accuracy.png")) {
                Files.readAllBytes(dir.resolve(png)).take(4) shouldBe
                    listOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte())
            }
        }
    })

class ResumeSpec :
    FunSpec({
        test(
            "an interrupted run resumed from its folder ends exactly where an uninterrupted one does"
        ) {
            val json = Json { classDiscriminator = "type" }
            fun trainLosses(dir: java.nio.file.Path) =
                Files.readAllLines(dir.resolve("metrics.jsonl"))
                    .map { json.decodeFromString(MetricEvent.serializer(), it) }
                    .filterIsInstance<TrainMetrics>()
                    .associate { "${it.variant}:${it.step}" to it.loss }
            fun results(dir: java.nio.file.Path) =
                Json.parseToJsonElement(Files.readString(dir.resolve("results_algorithmic.json")))
                    .jsonObject
                    .getValue("results")

            val straight =
                Runner()
                    .run(
                        tinyExperiment(),
                        RunOptions(runsDir = Files.createTempDirectory("straight")),
                    )

            val crash =
                object : looplab.pipelines.metrics.TrainingListener {
                    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
                        if (metrics.variant == "shared_loop" && metrics.step == 15L)
                            throw IllegalStateException("power cut")
                    }
                }
            val runs = Files.createTempDirectory("interrupted")
            io.kotest.assertions.throwables.shouldThrow<IllegalStateException> {
                Runner()
                    .run(tinyExperiment(), RunOptions(runsDir = runs, listeners = listOf(crash)))
            }
            val dir = Files.list(runs.resolve("tiny")).findFirst().get()
            Json.parseToJsonElement(Files.readString(dir.resolve("summary.json")))
                .jsonObject
                .getValue("status")
                .jsonPrimitive
                .content shouldBe "failed"
            val starts = mutableListOf<String>()
            val watch =
                object : looplab.pipelines.metrics.TrainingListener {
                    override fun started(
                        variant: String,
                        stage: String,
                        totalSteps: Long,
                        startStep: Long,
                    ) {
                        starts += "$variant:$startStep"
                    }
                }
            val resumed =
                Runner().run(tinyExperiment(), RunOptions(resume = dir, listeners = listOf(watch)))
            resumed.succeeded shouldBe true
            resumed.dir shouldBe dir
            trainLosses(dir) shouldBe trainLosses(straight.dir)
            // It continued from the checkpoint at step 10, not from scratch, and the baseline,
            // finished
            // before the crash, was not trained again.
            starts shouldBe listOf("shared_loop:10")
            // Every step is recorded once: the steps trained again replaced their first record.
            val lines =
                Files.readAllLines(dir.resolve("metrics.jsonl")).map {
                    json.decodeFromString(MetricEvent.serializer(), it)
                }
            lines
                .filterIsInstance<TrainMetrics>()
                .groupingBy { "${it.variant}:${it.step}" }
                .eachCount()
                .filterValues { it > 1 } shouldBe emptyMap()
            lines
                .filterIsInstance<EvalMetrics>()
                .groupingBy { "${it.variant}:${it.stage}:${it.step}" }
                .eachCount()
                .filterValues { it > 1 } shouldBe emptyMap()
            results(dir) shouldBe results(straight.dir)
            // The summary keeps the figures of the variant finished before the crash, and each
            // stage's first loss.
            fun stages(summary: looplab.pipelines.run.RunSummary) =
                summary.variants.associate { v ->
                    v.name to
                        v.stages.getValue("pretrain").let {
                            listOf(it.steps, it.firstLoss, it.finalLoss, it.validationLoss)
                        }
                }
            stages(resumed.summary) shouldBe stages(straight.summary)
            resumed.summary.status shouldBe "complete"
        }
    })

class CompiledRunSpec :
    FunSpec({
        test("training with the compiled backend gives the eager loss curve (fp32)") {
            val json = Json { classDiscriminator = "type" }
            fun losses(spec: looplab.dsl.ExperimentSpec): List<Double> {
                val result =
                    Runner().run(spec, RunOptions(runsDir = Files.createTempDirectory("backend")))
                result.succeeded shouldBe true
                return Files.readAllLines(result.dir.resolve("metrics.jsonl"))
                    .map { json.decodeFromString(MetricEvent.serializer(), it) }
                    .filterIsInstance<TrainMetrics>()
                    .map { it.loss }
            }
            val eager = losses(tinyExperiment(evalEvery = null))
            val compiled =
                losses(
                    tinyExperiment(evalEvery = null).copy(backend = looplab.dsl.Backend.Compiled)
                )
            compiled.size shouldBe eager.size
            for ((c, e) in compiled.zip(eager)) (kotlin.math.abs(c - e) / e) shouldBeLessThan 1e-4
        }

        test("bf16-mixed trains on the compiled backend and its loss falls") {
            shouldTrainCompiled(looplab.dsl.Precision.Bf16Mixed)
        }
    })

class Fp16Spec :
    FunSpec({
        test("fp16-mixed trains with dynamic loss scaling on the compiled backend") {
            shouldTrainCompiled(looplab.dsl.Precision.Fp16Mixed)
        }

        test(
            "the loss scaler skips an overflowing step, halves, and grows back after clean steps"
        ) {
            val scaler = looplab.models.optim.LossScaler(initial = 1024.0, growthInterval = 3)
            scaler.update(finiteGradients = false) shouldBe false
            scaler.scale shouldBe 512.0
            repeat(2) { scaler.update(finiteGradients = true) shouldBe true }
            scaler.scale shouldBe 512.0
            scaler.update(finiteGradients = true) shouldBe true
            scaler.scale shouldBe 1024.0
        }
    })

/**
 * A tiny experiment in [precision] on the compiled backend runs to the end and its loss falls by
 * 10%.
 */
private fun shouldTrainCompiled(precision: looplab.dsl.Precision) {
    val spec =
        tinyExperiment(steps = 40, evalEvery = null)
            .copy(backend = looplab.dsl.Backend.Compiled, precision = precision)
    val result = Runner().run(spec, RunOptions(runsDir = Files.createTempDirectory(precision.name)))
    result.succeeded shouldBe true
    val stage = result.summary.variants.first().stages.getValue("pretrain")
    stage.finalLoss!! shouldBeLessThan stage.firstLoss!! * 0.9
}

class CurriculumResumeSpec :
    FunSpec({
        test(
            "a run with a DAG curriculum, interrupted and resumed, makes the same decisions and ends the same"
        ) {
            // Thresholds of zero unlock copy after parity's first evaluations, so the curriculum
            // acts
            // within a few steps of a tiny model; replay keeps mixing parity in after that.
            val spec =
                tinyExperiment(steps = 24, evalEvery = 4).let { base ->
                    base.copy(
                        data =
                            base.data.copy(
                                curriculum =
                                    looplab.dsl.CurriculumSpec(
                                        tasks =
                                            looplab.dsl.DagSpec(
                                                listOf(
                                                    looplab.dsl.DagStageSpec(
                                                        listOf(looplab.dsl.Task.Parity),
                                                        threshold = 0.0,
                                                    ),
                                                    looplab.dsl.DagStageSpec(
                                                        listOf(looplab.dsl.Task.Copy),
                                                        threshold = 0.0,
                                                    ),
                                                ),
                                                emaDecay = 0.5,
                                                patience = 1,
                                                replay = 0.3,
                                            )
                                    )
                            )
                    )
                }
            val json = Json { classDiscriminator = "type" }
            fun events(dir: java.nio.file.Path) =
                Files.readAllLines(dir.resolve("metrics.jsonl")).map {
                    json.decodeFromString(MetricEvent.serializer(), it)
                }
            val straight =
                Runner()
                    .run(
                        spec,
                        RunOptions(runsDir = Files.createTempDirectory("curriculum-straight")),
                    )
            val crash =
                object : looplab.pipelines.metrics.TrainingListener {
                    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
                        if (metrics.variant == "baseline" && metrics.step == 14L)
                            throw IllegalStateException("power cut")
                    }
                }
            val runs = Files.createTempDirectory("curriculum-interrupted")
            io.kotest.assertions.throwables.shouldThrow<IllegalStateException> {
                Runner().run(spec, RunOptions(runsDir = runs, listeners = listOf(crash)))
            }
            val dir = Files.list(runs.resolve("tiny")).findFirst().get()
            Runner().run(spec, RunOptions(resume = dir)).succeeded shouldBe true

            fun notes(dir: java.nio.file.Path) =
                events(dir)
                    .filterIsInstance<EvalMetrics>()
                    .filter { it.stage == "pretrain" }
                    .associate { "${it.variant}:${it.step}" to it.notes }
            val straightNotes = notes(straight.dir)
            // The curriculum did decide something, or this test would prove nothing.
            straightNotes.values.flatten().isNotEmpty() shouldBe true
            notes(dir) shouldBe straightNotes
            val losses = { d: java.nio.file.Path ->
                events(d).filterIsInstance<TrainMetrics>().associate {
                    "${it.variant}:${it.step}" to it.loss
                }
            }
            losses(dir) shouldBe losses(straight.dir)
        }
    })
