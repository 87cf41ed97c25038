package looplab.pipelines.sweep

import java.io.RandomAccessFile
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.longOrNull
import looplab.dsl.SpecJson
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.TextTable

/** Where one cell stands: its own status file, and the scheduler's view of it when there is one. */
public data class CellView(
    val cell: SweepCell,
    val status: CellStatus?,
    val queueState: String? = null,
) {
    /**
     * A cell has ended when it is complete, or it stopped and nothing will start it again by
     * itself.
     */
    val state: String
        get() =
            when {
                status?.state == "complete" -> "complete"
                queueState != null && queueState in SlurmStates.active -> queueState.lowercase()
                status == null -> "pending"
                else -> status.state
            }
}

/** `looplab sweep --status`: every cell's state and progress. */
public object SweepReport {
    public fun render(folder: SweepFolder, views: List<CellView>): String {
        val table =
            TextTable(
                listOf(
                    "cell",
                    "variant",
                    "seed",
                    "size",
                    "state",
                    "attempt",
                    "progress",
                    "job",
                    "host",
                )
            )
        for (v in views) {
            table.row(
                v.cell.id,
                v.cell.variant,
                v.cell.seed,
                v.cell.size ?: "-",
                v.state +
                    (v.status?.message?.takeIf { v.state == "failed" }?.let { ": $it" } ?: ""),
                v.status?.attempt ?: 0,
                progress(folder, v.cell),
                v.status?.job ?: "-",
                v.status?.host ?: "-",
            )
        }
        val counts =
            views
                .groupingBy { it.state }
                .eachCount()
                .entries
                .joinToString { "${it.value} ${it.key}" }
        return table.render() + "\n  ${views.size} cells: $counts"
    }

    /** The cell's training position, e.g. `pretrain 40/60`, read from the tail of its metrics. */
    public fun progress(folder: SweepFolder, cell: SweepCell): String {
        val run = folder.runDir(cell)
        val last = lastTrainEvent(run.resolve("metrics.jsonl")) ?: return "-"
        val stage = last["stage"]?.jsonPrimitive?.content ?: return "-"
        val step = last["step"]?.jsonPrimitive?.longOrNull ?: return "-"
        val total =
            runCatching {
                    SpecJson.json
                        .decodeFromString(
                            Plan.serializer(),
                            Files.readString(run.resolve("plan.json")),
                        )
                        .stages
                        .first { it.id == stage }
                        .steps
                }
                .getOrNull()
        return "$stage $step/${total ?: "?"}"
    }

    private fun lastTrainEvent(file: Path): JsonObject? {
        if (!Files.isRegularFile(file)) return null
        // Only the tail is read: a long run's metrics hold a line per logged step.
        val text =
            RandomAccessFile(file.toFile(), "r").use { f ->
                val start = maxOf(0L, f.length() - TAIL_BYTES)
                f.seek(start)
                ByteArray((f.length() - start).toInt()).also { f.readFully(it) }.decodeToString()
            }
        return text.lineSequence().toList().asReversed().firstNotNullOfOrNull { line ->
            runCatching { Json.parseToJsonElement(line).jsonObject }
                .getOrNull()
                ?.takeIf { it["type"]?.jsonPrimitive?.content == "train" }
        }
    }

    private const val TAIL_BYTES = 64L * 1024
}
