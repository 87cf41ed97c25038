package looplab.pipelines.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.options.split
import com.github.ajalt.clikt.parameters.types.double
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.path
import kotlinx.serialization.json.Json
import looplab.dsl.Backend
import looplab.dsl.Precision
import com.github.ajalt.clikt.parameters.options.flag
import looplab.models.compiled.GpuSettings
import looplab.models.eager.EagerBackend
import looplab.pipelines.bench.BenchMode
import looplab.pipelines.bench.DataBench
import looplab.pipelines.bench.BenchModels
import looplab.pipelines.bench.BenchResult
import looplab.pipelines.bench.TrainBench
import looplab.pipelines.plan.Format
import looplab.pipelines.plan.TextTable
import java.nio.file.Files
import java.nio.file.StandardOpenOption
import java.util.Locale

/** `looplab bench`: measurements, not tests. */
public class BenchCommand : CliktCommand(name = "bench") {
    override fun help(context: Context): String = "Measure: training throughput (train), data generation (data), memory over many steps (soak)."
    override fun run(): Unit = Unit
}

/** `looplab bench train`: tokens/s, MFU and memory per model and mode, side by side in one run. */
public class BenchTrainCommand : CliktCommand(name = "train") {
    override fun help(context: Context): String =
        "Train each model for a few steps on random tokens in each mode and report tokens/s, MFU and peak device memory."

    private val models by option("--models", help = "Models to measure: ${BenchModels.all.joinToString { it.name }}.").split(",").default(BenchModels.standard.map { it.name })
    private val modes by option("--modes", help = "Backend-precision pairs, e.g. eager-fp32,compiled-bf16mixed.").split(",").default(listOf("eager-fp32", "compiled-bf16mixed"))
    private val sequence by option("--seq", help = "Tokens per sequence.").int().default(2048)
    private val batch by option("--batch", help = "Sequences per step (default: each model's own).").int()
    private val steps by option("--steps", help = "Timed steps per configuration.").int().default(10)
    private val warmup by option("--warmup", help = "Untimed steps first (compilation, allocator growth).").int().default(3)
    private val gpu by option("--gpu", help = "GPU index; without it, the CPU.").int()
    private val peakTflops by option("--peak-tflops", help = "Peak FLOP/s for MFU, in TFLOP/s (H100 SXM dense bf16: 989).").double().default(989.0)
    private val jsonOut by option("--json", help = "Append one JSON line per configuration to this file.").path()
    private val profileDir by option("--profile", help = "Write a Chrome trace of one timed step per configuration into this folder.").path()
    private val tf32 by option("--tf32", help = "Let fp32 matrix products use TF32 on the GPU (looplab's default for fp32 training).").flag("--no-tf32", default = true)

    override fun run() {
        val chosen = models.map { name -> BenchModels.named(name) ?: throw UsageError("unknown bench model \"$name\"; known: ${BenchModels.all.joinToString { it.name }}") }
        val parsedModes = modes.map(::parseMode)
        val results = mutableListOf<BenchResult>()
        if (gpu != null && tf32) GpuSettings.allowTf32()
        profileDir?.let { Files.createDirectories(it) }
        EagerBackend(EagerBackend.device(gpu)).use { backend ->
            val bench = TrainBench(backend, peakTflops * 1e12)
            for (model in chosen) for (mode in parsedModes) {
                val sized = batch?.let { looplab.pipelines.bench.BenchModel(model.name, model.spec, model.vocabSize, it) } ?: model
                val result = bench.measure(sized, mode, sequence, steps, warmup, profileDir?.resolve("${model.name}-$mode.json"))
                results += result
                echo("${result.model} ${result.mode}: ${Format.count(result.tokensPerSecond)} tok/s, MFU ${Format.percent(result.mfu)}" + (result.error?.let { " ERROR $it" } ?: ""))
                jsonOut?.let { Files.writeString(it, json.encodeToString(BenchResult.serializer(), result) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND) }
            }
        }
        echo("")
        echo(table(results))
    }

    private fun parseMode(text: String): BenchMode {
        val (backend, precision) = text.split("-", limit = 2).let { if (it.size == 2) it else throw UsageError("mode \"$text\": expected backend-precision, e.g. compiled-bf16mixed") }
        val b = Backend.entries.firstOrNull { it.name.equals(backend, ignoreCase = true) } ?: throw UsageError("mode \"$text\": unknown backend \"$backend\" (eager, compiled)")
        val p = Precision.entries.firstOrNull { it.name.equals(precision, ignoreCase = true) } ?: throw UsageError("mode \"$text\": unknown precision \"$precision\" (fp32, bf16mixed, fp16mixed)")
        if (p != Precision.Fp32 && b == Backend.Eager) throw UsageError("mode \"$text\": the eager backend runs fp32 only")
        return BenchMode(b, p)
    }

    private fun table(results: List<BenchResult>): String {
        val t = TextTable(listOf("model", "mode", "batch x seq", "step ms", "fwd/bwd/opt ms", "tokens/s", "MFU", "peak memory", "vs first mode"))
        results.groupBy { it.model }.forEach { (_, rows) ->
            val first = rows.first().tokensPerSecond
            rows.forEach { r ->
                val phases = if (r.forwardMillis == null) "-" else "%.0f/%.0f/%.0f".format(Locale.ROOT, r.forwardMillis, r.backwardMillis, r.optimizerMillis)
                t.row(r.model, r.mode, "${r.batch} x ${r.sequence}", "%.1f".format(Locale.ROOT, r.stepMillis), phases, Format.count(r.tokensPerSecond),
                    Format.percent(r.mfu), r.peakMemoryBytes?.let(Format::bytes) ?: "-", if (first > 0) "%.2fx".format(Locale.ROOT, r.tokensPerSecond / first) else "-")
            }
        }
        return t.render()
    }

    private companion object {
        val json = Json { encodeDefaults = true; allowSpecialFloatingPointValues = true }
    }
}
/** `looplab bench data`. */
public class DataBenchCommand : CliktCommand(name = "data") {
    override fun help(context: Context): String =
        "Tokens/s generated with 1 and 2 producers per task mix, BPE training and encoding speed vs jtokkit, beside the tiny CPU trainer's tokens/s."

    private val batches by option("--batches", help = "Batches timed per mix and producer count.").int().default(300)

    override fun run() {
        DataBench({ echo(it) }, batches).run()
    }
}
