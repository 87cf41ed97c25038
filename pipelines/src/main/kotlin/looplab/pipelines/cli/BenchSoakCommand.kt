package looplab.pipelines.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.options.split
import com.github.ajalt.clikt.parameters.types.int
import java.util.Locale
import looplab.dsl.Backend
import looplab.models.eager.EagerBackend
import looplab.pipelines.bench.SoakBench
import looplab.pipelines.bench.SoakSample
import looplab.pipelines.plan.Format
import looplab.pipelines.plan.TextTable

/** `looplab bench soak`: does memory stay flat over many training steps? */
public class BenchSoakCommand : CliktCommand(name = "soak") {
    override fun help(context: Context): String =
        "Train a tiny model for many steps per backend and report resident memory (RSS) and DJL's live arrays as it goes: a leak shows as growth."

    private val steps by
        option("--steps", help = "Training steps per backend.").int().default(10_000)
    private val every by
        option("--every", help = "Read memory every this many steps (default: a tenth of --steps).")
            .int()
    private val backends by
        option("--backends", help = "Backends to soak: eager, compiled.")
            .split(",")
            .default(listOf("eager", "compiled"))

    override fun run() {
        if (steps < 1) throw UsageError("--steps must be ≥ 1, was $steps")
        val interval = every ?: maxOf(1, steps / 10)
        if (interval < 1) throw UsageError("--every must be ≥ 1, was $interval")
        val kinds =
            backends.map { name ->
                Backend.entries.firstOrNull { it.name.equals(name, ignoreCase = true) }
                    ?: throw UsageError("--backends: unknown backend \"$name\" (eager, compiled)")
            }
        val readAt = (interval..steps step interval).toSet() + steps
        val samples = mutableListOf<SoakSample>()
        EagerBackend().use { backend ->
            val bench = SoakBench(backend)
            for (kind in kinds) samples +=
                bench.run(kind, steps, readAt) { s ->
                    echo(
                        "${kind.name.lowercase()} step ${s.step}: RSS ${Format.bytes(s.rssBytes)}, live arrays ${s.liveArrays}, heap ${Format.bytes(s.heapBytes)}"
                    )
                }
        }
        echo("")
        val table =
            TextTable(
                listOf(
                    "backend",
                    "step",
                    "RSS",
                    "live NDArrays",
                    "Java heap",
                    "RSS vs first reading",
                )
            )
        samples
            .groupBy { it.backend }
            .forEach { (_, rows) ->
                val first = rows.first().rssBytes.toDouble()
                rows.forEach { s ->
                    table.row(
                        s.backend.name.lowercase(),
                        s.step.toString(),
                        Format.bytes(s.rssBytes),
                        s.liveArrays.toString(),
                        Format.bytes(s.heapBytes),
                        "%+.1f%%".format(Locale.ROOT, 100 * (s.rssBytes - first) / first),
                    )
                }
            }
        echo(table.render())
    }
}
