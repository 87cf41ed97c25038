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
import com.github.ajalt.clikt.parameters.types.path
import com.github.ajalt.clikt.parameters.types.restrictTo
import java.nio.file.Files
import java.nio.file.StandardOpenOption
import java.util.Locale
import kotlinx.serialization.json.Json
import looplab.dsl.Backend
import looplab.dsl.Precision
import looplab.models.compiled.GpuSettings
import looplab.models.eager.EagerBackend
import looplab.pipelines.bench.BenchMode
import looplab.pipelines.bench.BenchModels
import looplab.pipelines.bench.BenchResult
import looplab.pipelines.bench.DataBench
import looplab.pipelines.bench.TrainBench
import looplab.pipelines.plan.Format
import looplab.pipelines.plan.TextTable

/** `looplab bench`: measurements, not tests. */
public class BenchCommand : CliktCommand(name = "bench") {
    override fun help(context: Context): String =
        "Measure: training throughput (train), data generation (data), memory over many steps (soak)."

    override fun run(): Unit = Unit
}

/** `looplab bench train`: tokens/s, MFU and memory per model and mode, side by side in one run. */
public class BenchTrainCommand : CliktCommand(name = "train") {
    override fun help(context: Context): String =
        "Train each model for a few steps on random tokens in each mode and report tokens/s, MFU and peak device memory."

    private val models by
        option("--models", help = "Models to measure: ${BenchModels.all.joinToString { it.name }}.")
            .split(",")
            .default(BenchModels.standard.map { it.name })
    private val modes by
        option("--modes", help = "Backend-precision pairs, e.g. eager-fp32,compiled-bf16mixed.")
            .split(",")
            .default(listOf("eager-fp32", "compiled-bf16mixed"))
    private val optimizers by
        option(
                "--optimizer",
                help =
                    "Optimizers to measure each mode with: adamw, lion, muon (ratios to the first in the table).",
            )
            .split(",")
            .default(listOf("adamw"))
    private val sequence by
        option("--seq", help = "Tokens per sequence.").int().restrictTo(min = 2).default(2048)
    private val batch by
        option("--batch", help = "Sequences per step (default: each model's own).")
            .int()
            .restrictTo(min = 1)
    private val steps by
        option("--steps", help = "Timed steps per configuration.")
            .int()
            .restrictTo(min = 1)
            .default(10)
    private val warmup by
        option("--warmup", help = "Untimed steps first (compilation, allocator growth).")
            .int()
            .restrictTo(min = 0)
            .default(3)
    private val gpu by
        option("--gpu", help = "GPU index; without it, the CPU.").int().restrictTo(min = 0)
    private val peakTflops by
        option(
                "--peak-tflops",
                help = "Peak FLOP/s for MFU, in TFLOP/s (H100 SXM dense bf16: 989).",
            )
            .double()
            .restrictTo(min = 1e-9)
            .default(989.0)
    private val jsonOut by
        option("--json", help = "Append one JSON line per configuration to this file.").path()
    private val profileDir by
        option(
                "--profile",
                help = "Write a Chrome trace of one timed step per configuration into this folder.",
            )
            .path()
    private val dumpPrograms by
        option(
                "--dump-programs",
                help =
                    "Write every compiled training program (TorchScript archive and input shapes) into this folder, for bench/profile-programs.py.",
            )
            .path()
    private val tf32 by
        option(
                "--tf32",
                help =
                    "Let fp32 matrix products use TF32 on the GPU (looplab's default for fp32 training).",
            )
            .flag("--no-tf32", default = true)

    override fun run() {
        val chosen =
            models.map { name ->
                BenchModels.named(name)
                    ?: throw UsageError(
                        "unknown bench model \"$name\"; known: ${BenchModels.all.joinToString { it.name }}"
                    )
            }
        val unknown = optimizers.filter { it !in BenchMode.OPTIMIZERS }
        if (unknown.isNotEmpty())
            throw UsageError(
                "unknown optimizer ${unknown.joinToString { "\"$it\"" }}; known: ${BenchMode.OPTIMIZERS.keys.joinToString()}"
            )
        val parsedModes =
            modes.map(::parseMode).flatMap { mode -> optimizers.map { mode.copy(optimizer = it) } }
        val results = mutableListOf<BenchResult>()
        if (gpu != null && tf32) GpuSettings.allowTf32()
        profileDir?.let { Files.createDirectories(it) }
        EagerBackend(EagerBackend.device(gpu)).use { backend ->
            val bench = TrainBench(backend, peakTflops * 1e12)
            for (model in chosen) for (mode in parsedModes) {
                dumpPrograms?.let {
                    System.setProperty(
                        "looplab.dumpPrograms",
                        it.resolve("${model.name}-$mode").toString(),
                    )
                }
                val sized =
                    batch?.let {
                        looplab.pipelines.bench.BenchModel(
                            model.name,
                            model.spec,
                            model.vocabSize,
                            it,
                        )
                    } ?: model
                val result =
                    bench.measure(
                        sized,
                        mode,
                        sequence,
                        steps,
                        warmup,
                        profileDir?.resolve("${model.name}-$mode.json"),
                    )
                results += result
                echo(
                    "${result.model} ${result.mode}: ${Format.count(result.tokensPerSecond)} tok/s, MFU ${Format.percent(result.mfu)}" +
                        (result.error?.let { " ERROR $it" } ?: "")
                )
                jsonOut?.let {
                    Files.writeString(
                        it,
                        json.encodeToString(BenchResult.serializer(), result) + "\n",
                        StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND,
                    )
                }
            }
        }
        echo("")
        echo(table(results))
        if (results.drop(1).any { it.device.startsWith("gpu") })
            echo(
                "Peak memory is shown for the first GPU model of a command only: later ones reuse what it left with PyTorch's caching allocator. Bench one model per command to compare memory."
            )
    }

    internal companion object {
        val json = Json {
            encodeDefaults = true
            allowSpecialFloatingPointValues = true
        }

        fun parseMode(text: String): BenchMode {
            val (backend, precision) =
                text.split("-", limit = 2).let {
                    if (it.size == 2) it
                    else
                        throw UsageError(
                            "mode \"$text\": expected backend-precision, e.g. compiled-bf16mixed"
                        )
                }
            val b =
                Backend.entries.firstOrNull { it.name.equals(backend, ignoreCase = true) }
                    ?: throw UsageError(
                        "mode \"$text\": unknown backend \"$backend\" (eager, compiled)"
                    )
            val p =
                Precision.entries.firstOrNull { it.name.equals(precision, ignoreCase = true) }
                    ?: throw UsageError(
                        "mode \"$text\": unknown precision \"$precision\" (fp32, bf16mixed, fp16mixed)"
                    )
            if (p != Precision.Fp32 && b == Backend.Eager)
                throw UsageError("mode \"$text\": the eager backend runs fp32 only")
            return BenchMode(b, p)
        }
    }

    private fun table(results: List<BenchResult>): String {
        val t =
            TextTable(
                listOf(
                    "model",
                    "mode",
                    "batch x seq",
                    "step ms",
                    "fwd/bwd/opt ms",
                    "tokens/s",
                    "MFU",
                    "peak memory",
                    "vs first mode",
                )
            )
        results
            .groupBy { it.model }
            .forEach { (_, rows) ->
                val first = rows.first().tokensPerSecond
                rows.forEach { r ->
                    val phases =
                        if (r.forwardMillis == null) "-"
                        else
                            "%.0f/%.0f/%.0f"
                                .format(
                                    Locale.ROOT,
                                    r.forwardMillis,
                                    r.backwardMillis,
                                    r.optimizerMillis,
                                )
                    t.row(
                        r.model,
                        r.mode,
                        "${r.batch} x ${r.sequence}",
                        "%.1f".format(Locale.ROOT, r.stepMillis),
                        phases,
                        Format.count(r.tokensPerSecond),
                        Format.percent(r.mfu),
                        r.peakMemoryBytes?.let(Format::bytes) ?: "-",
                        if (first > 0) "%.2fx".format(Locale.ROOT, r.tokensPerSecond / first)
                        else "-",
                    )
                }
            }
        return t.render()
    }
}

/** `looplab bench generate`: decoding tokens/s with the cache, and without it, side by side. */
public class GenerateBenchCommand : CliktCommand(name = "generate") {
    override fun help(context: Context): String =
        "Greedy decoding speed of freshly initialised models: tokens/s of cached decoding steps, of a whole generate call (prefill included, as transformers is timed), the host time of a compiled step by phase, and of full recomputation per token."

    private val models by
        option("--models", help = "Models to measure: ${BenchModels.all.joinToString { it.name }}.")
            .split(",")
            .default(listOf("nano"))
    private val modes by
        option("--modes", help = "Backend-precision pairs, e.g. eager-fp32,compiled-bf16mixed.")
            .split(",")
            .default(listOf("eager-fp32"))
    private val batches by
        option("--batch", help = "Rows decoded together; a list measures each.")
            .int()
            .split(",")
            .default(listOf(1))
    private val context by
        option("--context", help = "Prompt tokens before decoding starts.").int().default(512)
    private val newTokens by
        option("--new", help = "Tokens generated per row with the cache.").int().default(32)
    private val uncachedTokens by
        option(
                "--uncached",
                help = "Tokens generated per row without the cache (0: skip; it is slow).",
            )
            .int()
            .default(4)
    private val gpu by option("--gpu", help = "GPU index; without it, the CPU.").int()
    private val tf32 by
        option("--tf32", help = "Let fp32 matrix products use TF32 on the GPU.")
            .flag("--no-tf32", default = true)
    private val fuse by
        option(
                "--fuse",
                help =
                    "Compiled modes: off, on, or off,on (side by side): let TorchScript optimize (fuse) the decoding programs.",
            )
            .split(",")
            .default(listOf("off"))

    override fun run() {
        val chosen =
            models.map { name ->
                BenchModels.named(name)
                    ?: throw UsageError(
                        "unknown bench model \"$name\"; known: ${BenchModels.all.joinToString { it.name }}"
                    )
            }
        val fusing =
            fuse.map {
                when (it) {
                    "off" -> false
                    "on" -> true
                    else -> throw UsageError("--fuse takes off, on or off,on; was \"$it\"")
                }
            }
        if (newTokens < 2) throw UsageError("--new must be ≥ 2, was $newTokens")
        val parsed = modes.map { BenchTrainCommand.parseMode(it) }
        if (gpu != null && tf32) GpuSettings.allowTf32()
        val t =
            TextTable(
                listOf(
                    "model",
                    "mode",
                    "batch",
                    "context",
                    "prefill ms",
                    "cached tok/s",
                    "generate tok/s",
                    "step ms: trace/dispatch/read",
                    "uncached tok/s",
                    "cached / uncached",
                )
            )
        EagerBackend(EagerBackend.device(gpu)).use { backend ->
            val bench = looplab.pipelines.bench.GenerateBench(backend)
            for (model in chosen) for (mode in parsed) for (batch in batches) for (f in fusing) {
                if (f && mode.backend != looplab.dsl.Backend.Compiled) continue
                val r = bench.measure(model, mode, batch, context, newTokens, uncachedTokens, f)
                val line =
                    listOf(
                        r.model,
                        r.mode,
                        "${r.batch}",
                        "${r.context}",
                        "%.1f".format(Locale.ROOT, r.prefillMillis),
                        "%.1f".format(Locale.ROOT, r.cachedTokensPerSecond),
                        "%.1f".format(Locale.ROOT, r.generateTokensPerSecond),
                        r.stepPhases?.let {
                            "%.2f/%.2f/%.2f"
                                .format(
                                    Locale.ROOT,
                                    it.traceMillis,
                                    it.dispatchMillis,
                                    it.readMillis,
                                )
                        } ?: "-",
                        r.uncachedTokensPerSecond?.let { "%.2f".format(Locale.ROOT, it) } ?: "-",
                        r.ratio?.let { "%.1fx".format(Locale.ROOT, it) } ?: "-",
                    )
                echo(line.joinToString("  "))
                t.row(*line.toTypedArray())
            }
        }
        echo("")
        echo(t.render())
    }
}

/** `looplab bench data`. */
public class DataBenchCommand : CliktCommand(name = "data") {
    override fun help(context: Context): String =
        "Tokens/s generated with 1 and 2 producers per task mix, BPE training and encoding speed vs jtokkit, beside the tiny CPU trainer's tokens/s."

    private val batches by
        option("--batches", help = "Batches timed per mix and producer count.")
            .int()
            .restrictTo(min = 1)
            .default(300)

    override fun run() {
        DataBench({ echo(it) }, batches).run()
    }
}
