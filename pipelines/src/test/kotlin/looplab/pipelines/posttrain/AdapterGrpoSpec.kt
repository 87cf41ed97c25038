package looplab.pipelines.posttrain

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import java.nio.file.Path
import looplab.dsl.*
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner

/** Copy in bytes: pretrain, SFT with adapters, then GRPO on fresh adapters only. */
private fun adapterRl(batches: Int = 2, evalEvery: Int? = null) =
    experiment("adapter-rl") {
        seed = 4
        data {
            tokenizer = Tokenizers.bytes
            algorithmic { task(Task.Copy, train = 1..3, ood = listOf(5)) }
        }
        model("m") {
            width = 32
            heads = 2
            layers = 2
            contextLength = 128
            ffnHidden = 64
        }
        pipeline {
            val base = pretrain {
                budget = 10.steps
                batchSize = 8
                evalSamples = 2
            }
            val tuned =
                sft(from = base) {
                    budget = 40.steps
                    batchSize = 8
                    lr = cosine(peak = 3e-3, warmup = 2.steps)
                    data { taskQuestions(listOf(Task.Copy)) }
                    evalSamples = 4
                    adapters(rank = 4)
                }
            grpo(from = tuned) {
                budget = batches.steps
                this.evalEvery = evalEvery?.steps
                updatesPerBatch = 2
                promptsPerStep = 4
                groupSize = 8
                maxNewTokens = 12
                lr = constant(1e-2)
                adaptersOnly = true
                prompts { taskQuestions(listOf(Task.Copy)) }
                evalSamples = 4
            }
        }
    }

/** Each GRPO step's loss, gradient norm and logged figures (timings left out), by step. */
private fun grpoCurve(run: Path): Map<Long, List<Double>> {
    val json = kotlinx.serialization.json.Json { classDiscriminator = "type" }
    return Files.readAllLines(run.resolve("metrics.jsonl"))
        .map { json.decodeFromString(MetricEvent.serializer(), it) }
        .filterIsInstance<TrainMetrics>()
        .filter { it.stage == "grpo" }
        .associate { m ->
            m.step to
                listOf(m.loss, m.gradNorm) +
                    m.extra
                        .filterKeys { "seconds" !in it && "per_second" !in it }
                        .toSortedMap()
                        .values
        }
}

private fun weights(run: Path, folder: String) =
    Checkpoint(run.resolve("checkpoints/m/$folder")).latest()!!.params

class AdapterGrpoSpec :
    FunSpec({
        test(
            "GRPO on adapters only keeps the SFT weights bit for bit under fresh adapters and hands on the merge"
        ) {
            val result =
                Runner()
                    .run(
                        adapterRl(),
                        RunOptions(runsDir = Files.createTempDirectory("adapter-rl"), quiet = true),
                    )
            result.succeeded shouldBe true
            val tuned = weights(result.dir, "sft")
            val training = weights(result.dir, "grpo.adapted")
            val merged = weights(result.dir, "grpo")
            // The base under the adapters is the SFT stage's merged model, untouched by GRPO.
            tuned.keys.forEach { name ->
                training.getValue(name).toList() shouldBe tuned.getValue(name).toList()
            }
            // The adapters moved, and what the stage hands on is the base with them merged in:
            // the same names as a plain model, different values where an adapter sits.
            (training.keys - tuned.keys).isNotEmpty() shouldBe true
            merged.keys shouldBe tuned.keys
            tuned.keys.any { !merged.getValue(it).contentEquals(tuned.getValue(it)) } shouldBe true
            tuned.keys
                .filter { name -> training.keys.none { it == "$name.hra_a" } }
                .forEach { name ->
                    merged.getValue(name).toList() shouldBe tuned.getValue(name).toList()
                }
        }

        test(
            "GRPO on adapters killed mid-stage resumes from its adapted checkpoint to the same curve"
        ) {
            val spec = adapterRl(batches = 3, evalEvery = 1)
            val straight =
                Runner()
                    .run(
                        spec,
                        RunOptions(
                            runsDir = Files.createTempDirectory("adapter-rl-straight"),
                            quiet = true,
                        ),
                    )
            straight.succeeded shouldBe true
            val runs = Files.createTempDirectory("adapter-rl-crash")
            val crash =
                object : TrainingListener {
                    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
                        if (metrics.stage == "grpo" && metrics.step == 5L)
                            throw IllegalStateException("power cut")
                    }
                }
            io.kotest.assertions.throwables.shouldThrow<IllegalStateException> {
                Runner()
                    .run(spec, RunOptions(runsDir = runs, listeners = listOf(crash), quiet = true))
            }
            val dir = Files.list(runs.resolve("adapter-rl")).findFirst().get()
            var grpoStart = -1L
            val starts =
                object : TrainingListener {
                    override fun started(
                        variant: String,
                        stage: String,
                        totalSteps: Long,
                        startStep: Long,
                    ) {
                        if (stage == "grpo") grpoStart = startStep
                    }
                }
            Runner()
                .run(spec, RunOptions(resume = dir, listeners = listOf(starts), quiet = true))
                .succeeded shouldBe true
            // The checkpoint of the evaluation after batch 2 (step 4), not the start.
            grpoStart shouldBe 4L
            grpoCurve(dir) shouldBe grpoCurve(straight.dir)
            weights(dir, "grpo").mapValues { it.value.toList() } shouldBe
                weights(straight.dir, "grpo").mapValues { it.value.toList() }
        }
    })
