package looplab.pipelines.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.options.split
import com.github.ajalt.clikt.parameters.types.double
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.long
import com.github.ajalt.clikt.parameters.types.restrictTo
import java.nio.file.Files
import java.util.Locale
import looplab.models.compiled.GpuSettings
import looplab.models.eager.EagerBackend
import looplab.pipelines.bench.BenchModels
import looplab.pipelines.bench.GrpoBench
import looplab.pipelines.bench.GrpoLearning
import looplab.pipelines.compare.Interval
import looplab.pipelines.plan.Format
import looplab.pipelines.plan.TextTable

/** `looplab bench grpo`: one GRPO step's time, split between generation, scoring and training. */
public class GrpoBenchCommand : CliktCommand(name = "grpo") {
    override fun help(context: Context): String =
        "Time GRPO steps of a freshly initialised model: sampling the groups (KV-cached), scoring them (policy and reference log-probs) and the update, with tokens/s of each."

    private val models by
        option("--models", help = "Models: tiny, ${BenchModels.all.joinToString { it.name }}.")
            .split(",")
            .default(listOf("osrt-v3"))
    private val modes by
        option("--modes", help = "Backend-precision pairs, e.g. eager-fp32,compiled-bf16mixed.")
            .split(",")
            .default(listOf("eager-fp32"))
    private val prompts by
        option("--prompts", help = "Prompts per generation batch.")
            .int()
            .restrictTo(min = 1)
            .default(8)
    private val group by
        option("--group", help = "Completions per prompt (G).")
            .int()
            .restrictTo(min = 2)
            .default(16)
    private val newTokens by
        option("--new", help = "Tokens sampled per completion.")
            .int()
            .restrictTo(min = 1)
            .default(128)
    private val warmup by
        option("--warmup", help = "Untimed steps first (compilation, allocator growth).")
            .int()
            .restrictTo(min = 0)
            .default(1)
    private val gpu by
        option("--gpu", help = "GPU index; without it, the CPU.").int().restrictTo(min = 0)
    private val tf32 by
        option("--tf32", help = "Let fp32 matrix products use TF32 on the GPU.")
            .flag("--no-tf32", default = true)

    private val sampling by
        option(
                "--sampling",
                help =
                    "Where tokens are drawn: device, host (from B x V logits copied back), or host,device side by side.",
            )
            .split(",")
            .default(listOf("device"))

    override fun run() {
        val onHost =
            sampling.map {
                when (it) {
                    "device" -> false
                    "host" -> true
                    else ->
                        throw UsageError(
                            "--sampling takes device, host or host,device; was \"$it\""
                        )
                }
            }
        val chosen =
            models.map { name ->
                if (name == "tiny") GrpoBench.tiny
                else
                    BenchModels.named(name)
                        ?: throw UsageError(
                            "unknown bench model \"$name\"; known: tiny, ${BenchModels.all.joinToString { it.name }}"
                        )
            }
        val parsed = modes.map { BenchTrainCommand.parseMode(it) }
        if (gpu != null && tf32) GpuSettings.allowTf32()
        val t =
            TextTable(
                listOf(
                    "model",
                    "mode",
                    "rows",
                    "prompt+new",
                    "generate s",
                    "gen tok/s",
                    "score s",
                    "score tok/s",
                    "train s",
                    "train tok/s",
                    "generate share",
                )
            )
        EagerBackend(EagerBackend.device(gpu)).use { backend ->
            for (model in chosen) for (mode in parsed) for (host in onHost) {
                val r =
                    GrpoBench(backend).measure(model, mode, prompts, group, newTokens, warmup, host)
                val line =
                    listOf(
                        r.model,
                        r.mode,
                        "${r.prompts} x ${r.groupSize}",
                        "%.0f+%.0f"
                            .format(
                                Locale.ROOT,
                                r.promptTokens,
                                r.generatedTokens.toDouble() / (r.prompts * r.groupSize),
                            ),
                        "%.2f".format(Locale.ROOT, r.generationSeconds),
                        Format.count(r.generationTokensPerSecond),
                        "%.2f".format(Locale.ROOT, r.scoringSeconds),
                        Format.count(r.scoringTokensPerSecond),
                        "%.2f".format(Locale.ROOT, r.trainSeconds),
                        Format.count(r.trainTokensPerSecond),
                        Format.percent(r.generationSeconds / r.total),
                    )
                echo(line.joinToString("  "))
                t.row(*line.toTypedArray())
            }
        }
        echo("")
        echo(t.render())
        echo(
            "gen tok/s: sampled tokens; score tok/s: positions through the policy and the reference (no gradient); train tok/s: positions through forward, backward and the optimizer."
        )
    }
}

/** `looplab bench grpo-learn`: does GRPO improve a tiny model, over seeds? */
public class GrpoLearnCommand : CliktCommand(name = "grpo-learn") {
    override fun help(context: Context): String =
        "Warm a tiny model up on digit sums (supervised), run GRPO on them, and report held-out accuracy before and after (mean ± 95% CI over seeds), KL and the per-step figures."

    private val seeds by
        option("--seeds", help = "Seeds, comma-separated.")
            .long()
            .split(",")
            .default(listOf(1L, 2L, 3L))
    private val batches by
        option("--batches", help = "GRPO generation batches.")
            .long()
            .restrictTo(min = 1)
            .default(100)
    private val warmupSteps by
        option("--warmup-steps", help = "Supervised warmup steps before GRPO.")
            .int()
            .restrictTo(min = 0)
            .default(150)
    private val lr by
        option("--lr", help = "GRPO learning rate (constant, AdamW).").double().default(1e-4)
    private val beta by
        option("--beta", help = "Weight of the KL to the warmed-up model.").double().default(0.04)
    private val temperature by
        option("--temperature", help = "Sampling temperature of the groups.").double().default(1.0)
    private val group by
        option("--group", help = "Completions per prompt (G).").int().restrictTo(min = 2).default(8)
    private val prompts by
        option("--prompts", help = "Prompts per generation batch.")
            .int()
            .restrictTo(min = 1)
            .default(8)
    private val updates by
        option("--updates", help = "Optimizer steps per generation batch (mu).")
            .int()
            .restrictTo(min = 1)
            .default(2)
    private val weightDecay by
        option("--weight-decay", help = "AdamW's decoupled weight decay.").double().default(0.1)
    private val every by
        option("--print-every", help = "Print every n-th step of each seed.")
            .int()
            .restrictTo(min = 1)
            .default(6)

    override fun run() {
        val learning =
            GrpoLearning(
                warmupSteps,
                GrpoLearning.defaultStage(
                    batches,
                    updates,
                    lr,
                    group,
                    prompts,
                    beta,
                    temperature,
                    weightDecay,
                ),
            )
        val outcomes =
            seeds.map { seed ->
                val dir = Files.createTempDirectory("grpo-learn")
                try {
                    learning.run(seed, dir.resolve("checkpoint")).also { o ->
                        echo(
                            "seed $seed: held-out accuracy ${pct(o.accuracyBefore)} -> ${pct(o.accuracyAfter)}, format ${pct(o.formatBefore)} -> ${pct(o.formatAfter)}, max KL ${"%.4f".format(Locale.ROOT, o.maxKl)}, sampled reward (mean of the first and last ${window(o)} batches) ${"%.3f".format(Locale.ROOT, o.rewards.take(window(o)).average())} -> ${"%.3f".format(Locale.ROOT, o.rewards.takeLast(window(o)).average())}"
                        )
                        val t =
                            TextTable(
                                listOf(
                                    "step",
                                    "loss",
                                    "reward",
                                    "reward std",
                                    "accuracy",
                                    "kl",
                                    "entropy",
                                    "sampled nll",
                                    "clip",
                                    "zero-var",
                                    "length",
                                    "gen s",
                                    "train s",
                                )
                            )
                        o.steps
                            .filterIndexed { i, m -> i % every == 0 || i == o.steps.lastIndex }
                            .forEach { m ->
                                fun x(k: String, f: String = "%.3f") =
                                    m.extra[k]?.let { f.format(Locale.ROOT, it) } ?: "-"
                                t.row(
                                    "${m.step}",
                                    "%.4f".format(Locale.ROOT, m.loss),
                                    x("reward_mean"),
                                    x("reward_std"),
                                    x("accuracy"),
                                    x("kl", "%.4f"),
                                    x("entropy"),
                                    x("sampled_nll"),
                                    x("clip_fraction"),
                                    x("zero_variance_groups"),
                                    x("completion_length", "%.1f"),
                                    x("generation_seconds"),
                                    x("train_seconds"),
                                )
                            }
                        echo(t.render())
                    }
                } finally {
                    dir.toFile().deleteRecursively()
                }
            }
        val before = Interval.of(outcomes.map { it.accuracyBefore })
        val after = Interval.of(outcomes.map { it.accuracyAfter })
        val gain = Interval.of(outcomes.map { it.accuracyAfter - it.accuracyBefore })
        echo("")
        echo(
            "held-out accuracy before GRPO: ${ci(before)}; after: ${ci(after)}; gain: ${ci(gain)} (${outcomes.size} seeds, mean ± 95% CI)"
        )
        echo(
            "max KL to the start over the stage: ${outcomes.joinToString { "%.4f".format(Locale.ROOT, it.maxKl) }}"
        )
    }

    /** Batches averaged at each end of the reward curve: a batch of 8 prompts alone is noisy. */
    private fun window(o: looplab.pipelines.bench.GrpoLearningOutcome) =
        maxOf(1, minOf(10, o.rewards.size / 2))

    private fun pct(x: Double) = "%.1f%%".format(Locale.ROOT, 100 * x)

    private fun ci(i: Interval) = "%.1f%% ± %.1f".format(Locale.ROOT, 100 * i.mean, 100 * i.half)
}
