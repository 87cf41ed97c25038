package looplab.pipelines.bench

import com.knuddels.jtokkit.Encodings
import com.knuddels.jtokkit.api.EncodingType
import java.nio.file.Files
import java.util.Locale
import looplab.curriculum.data.BatchStream
import looplab.curriculum.data.Batcher
import looplab.curriculum.language.CorpusLoader
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.bpe.BpeTrainer
import looplab.dsl.*
import looplab.dsl.SpecChecker
import looplab.models.Models
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.plan.Planner
import looplab.pipelines.plan.ResolvedData
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.StageCheckpoint
import looplab.pipelines.train.CurriculumBatches
import looplab.pipelines.train.Execution
import looplab.pipelines.train.LoopSettings
import looplab.pipelines.train.PeriodicEvaluation
import looplab.pipelines.train.StageBudget
import looplab.pipelines.train.TokenObjective
import looplab.pipelines.train.TrainingData
import looplab.pipelines.train.TrainingLoop

/**
 * `looplab bench data`: how fast looplab makes data, next to how fast the tiny CPU trainer eats it,
 * measured in the same process so the margin is a ratio taken side by side. Not a test: it prints
 * figures and asserts nothing.
 */
public class DataBench(private val out: (String) -> Unit, private val batches: Int = 300) {
    public fun run() {
        val trainer = trainerTokensPerSecond()
        out(
            "Tiny CPU trainer (nano-ablation baseline: 128 wide, 4 layers, context 32, batch 32): %,.0f tokens/s"
                .format(Locale.ROOT, trainer)
        )
        out("")
        out("Data generation (batches of 32, tokens counted without padding):")
        out(
            "  %-44s %14s %14s %10s"
                .format(Locale.ROOT, "mix", "1 producer", "2 producers", "vs trainer")
        )
        for ((name, spec) in mixes()) {
            val competence = name.contains("competence")
            val one = generation(spec, 1, competence)
            val two = generation(spec, 2, competence)
            out(
                "  %-44s %,14.0f %,14.0f %9.0fx"
                    .format(Locale.ROOT, name, one, two, maxOf(one, two) / trainer)
            )
        }
        out("")
        val austen = CorpusLoader.load(Corpus.Austen).documents
        val sample =
            austen.joinToString("\n\n").let { it.substring(0, minOf(it.length, 2_000_000)) }
        val trainText = sample.substring(0, 1_000_000)
        val t0 = System.nanoTime()
        val bpe = BpeTrainer.train(trainText.split("\n\n").asSequence(), 4_096)
        val trainSeconds = (System.nanoTime() - t0) / 1e9
        out(
            "BPE training: %.2f MB of Austen to a vocabulary of 4,096 in %.2f s = %.2f MB/s"
                .format(
                    Locale.ROOT,
                    trainText.length / 1e6,
                    trainSeconds,
                    trainText.length / 1e6 / trainSeconds,
                )
        )
        val bytes = sample.encodeToByteArray().size / 1e6
        val jtokkit = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE)
        val ours = speed(bytes) { bpe.encode(sample).size }
        val theirs = speed(bytes) { jtokkit.encodeOrdinary(sample).size() }
        out(
            "Encoding %.2f MB of Austen (best of 3): looplab BPE-4096 %.2f MB/s (%,d tokens), jtokkit r50k %.2f MB/s (%,d tokens)"
                .format(Locale.ROOT, bytes, ours.first, ours.second, theirs.first, theirs.second)
        )
    }

    private fun mixes(): List<Pair<String, ExperimentSpec>> {
        fun spec(name: String, block: DataBuilder.() -> Unit) =
            name to
                experiment("bench") {
                    data(block)
                    model("m") {
                        width = 64
                        heads = 4
                        layers = 1
                        contextLength = 256
                    }
                    pipeline {
                        pretrain {
                            budget = 10.steps
                            batchSize = 32
                        }
                    }
                }
        return listOf(
            spec("parity+addition+copy (nano-ablation, chars)") {
                algorithmic(Task.Parity, Task.Addition, Task.Copy)
            },
            spec("all ten tasks (chars)") { algorithmic(tasks = Task.all) },
            spec("all ten tasks, competence draw (chars)") { algorithmic(tasks = Task.all) },
            spec("Austen, 256-token windows (bytes)") {
                tokenizer = Tokenizers.bytes
                language(Corpus.Austen, sequenceLength = 256)
            },
        )
    }

    private fun generation(spec: ExperimentSpec, producers: Int, competence: Boolean): Double {
        val data = ResolvedData.resolve(spec, TaskRegistry(), SpecChecker())!!
        val training = data.trainingData(spec, 32)
        // A competence curriculum's draw: every task at its hardest training length, 10% easier
        // replays.
        val draw =
            data.mixture
                ?.let { m -> m.plainDraw.copy(levels = m.tasks.map { it.train.max }, jitter = 0.1) }
                ?.takeIf { competence }
        BatchStream(producers) { training.batch(it, draw) }.use { s -> repeat(200) { s.next() } }
        return BatchStream(producers, start = 1_000) { training.batch(it, draw) }
            .use { s ->
                val t0 = System.nanoTime()
                var tokens = 0L
                repeat(batches) { tokens += s.next().tokens }
                tokens / ((System.nanoTime() - t0) / 1e9)
            }
    }

    private fun trainerTokensPerSecond(): Double {
        val spec =
            experiment("bench-trainer") {
                data { algorithmic(Task.Parity, Task.Addition, Task.Copy) }
                model("baseline") {
                    width = 128
                    heads = 4
                    layers = 4
                    contextLength = 32
                }
                pipeline {
                    pretrain {
                        budget = 60.steps
                        batchSize = 32
                        lr = constant(1e-3)
                    }
                }
            }
        val (plan, data) = Planner().compileResolved(spec)
        val resolved = plan.experiment
        val stage = resolved.pipeline.stages.single() as PretrainSpec
        var rate = 0.0
        EagerBackend().use { backend ->
            val model = Models.build(resolved.models.single(), plan.vocabSize)
            val store = ParameterStore(model.parameters, backend, resolved.seed)
            val listener =
                object : TrainingListener {
                    var startTokens = 0L
                    var startTime = 0L

                    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
                        // Skip the first 10 steps (warm-up of PyTorch's kernels and allocator);
                        // wall clock, data waits included.
                        if (metrics.step == 10L) {
                            startTokens = metrics.tokens
                            startTime = System.nanoTime()
                        }
                        if (metrics.step > 10L)
                            rate =
                                (metrics.tokens - startTokens) /
                                    ((System.nanoTime() - startTime) / 1e9)
                    }
                }
            val dir = Files.createTempDirectory("looplab-bench")
            val optimizer = Execution.optimizer(Backend.Eager, stage.optimizer, store, backend)
            TrainingLoop(
                    LoopSettings(
                        "baseline",
                        stage.id,
                        StageBudget(60),
                        stage.lr,
                        stage.clipNorm,
                        stage.logEvery.steps,
                    ),
                    optimizer,
                    TokenObjective(
                        Execution.executor(Backend.Eager, Precision.Fp32, backend),
                        model,
                        store,
                    ),
                    CurriculumBatches(
                        TrainingData(
                            data.mixture,
                            Batcher(data.tokenizer, LossScope.Answer),
                            32,
                            resolved.seed,
                        ),
                        null,
                        null,
                    ),
                    PeriodicEvaluation("baseline", stage.id, null, validationLoss = { null }),
                    StageCheckpoint(Checkpoint(dir.resolve("ckpt")), store, optimizer),
                    listener,
                )
                .run()
            dir.toFile().deleteRecursively()
        }
        return rate
    }

    private fun speed(megabytes: Double, encode: () -> Int): Pair<Double, Int> {
        var best = Double.MAX_VALUE
        var tokens = 0
        repeat(3) {
            val t0 = System.nanoTime()
            tokens = encode()
            best = minOf(best, (System.nanoTime() - t0) / 1e9)
        }
        return megabytes / best to tokens
    }
}
