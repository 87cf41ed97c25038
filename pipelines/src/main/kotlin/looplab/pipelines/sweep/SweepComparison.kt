package looplab.pipelines.sweep

import java.nio.file.Files
import java.util.Locale
import kotlin.math.sqrt
import kotlinx.serialization.Serializable
import looplab.dsl.SpecJson
import looplab.pipelines.plan.Format
import looplab.pipelines.plan.TextTable
import looplab.pipelines.run.RunRecorder
import looplab.pipelines.run.RunSummary

/** One cell's outcome, as gathered from its run's `summary.json`. */
@Serializable
public data class CellResult(
    val cell: String,
    val variant: String,
    val seed: Long,
    val size: String? = null,
    val physicalParams: Long? = null,
    val steps: Long? = null,
    val firstLoss: Double? = null,
    val finalLoss: Double? = null,
    val validationLoss: Double? = null,
    val iidAccuracy: Map<String, Double> = emptyMap(),
    val oodAccuracy: Map<String, Double> = emptyMap(),
    val perplexity: Double? = null,
    val status: String,
)

/**
 * The sweep's comparison, written when every cell has ended: one row per cell, then, when the grid
 * has several seeds, each (variant, size) over its seeds (mean ± sample standard deviation). Only
 * what training determines is shown (times and speeds are not), so two executors of one sweep give
 * the same table.
 */
public object SweepComparison {
    public fun gather(folder: SweepFolder): List<CellResult> =
        folder.manifest().cells.map { cell ->
            val run = folder.runDir(cell)
            val summary =
                run.resolve("summary.json").takeIf(Files::isRegularFile)?.let {
                    RunRecorder.pretty.decodeFromString(
                        RunSummary.serializer(),
                        Files.readString(it),
                    )
                }
            val variant = summary?.variants?.firstOrNull { it.name == cell.variant }
            val train = variant?.stages?.values?.lastOrNull { it.kind == "pretrain" }
            val measured =
                variant?.stages?.values?.lastOrNull {
                    it.iidAccuracy.isNotEmpty() || it.oodAccuracy.isNotEmpty()
                }
            CellResult(
                cell.id,
                cell.variant,
                cell.seed,
                cell.size,
                variant?.physicalParams,
                train?.steps,
                train?.firstLoss,
                train?.finalLoss,
                train?.validationLoss,
                measured?.iidAccuracy.orEmpty(),
                measured?.oodAccuracy.orEmpty(),
                variant?.stages?.values?.lastOrNull { it.perplexity != null }?.perplexity,
                status = folder.status(cell)?.state ?: "not started",
            )
        }

    /** Writes `comparison.txt` and `comparison.json` into the sweep folder; returns the text. */
    public fun write(folder: SweepFolder): String {
        val results = gather(folder)
        val text = render(results)
        folder.write("comparison.txt", text + "\n")
        folder.write(
            "comparison.json",
            SpecJson.json.encodeToString(
                kotlinx.serialization.builtins.ListSerializer(CellResult.serializer()),
                results,
            ) + "\n",
        )
        return text
    }

    public fun render(results: List<CellResult>): String {
        val tasks = results.flatMap { it.iidAccuracy.keys + it.oodAccuracy.keys }.distinct()
        val language = results.any { it.perplexity != null }
        val cells =
            TextTable(
                listOf(
                    "cell",
                    "variant",
                    "seed",
                    "size",
                    "params",
                    "steps",
                    "loss first -> last",
                    "held-out",
                ) +
                    (if (language) listOf("ppl") else emptyList()) +
                    tasks.map { "$it iid/ood" } +
                    "status"
            )
        for (r in results) {
            cells.row(
                r.cell,
                r.variant,
                r.seed,
                r.size ?: "-",
                r.physicalParams?.let(Format::count) ?: "-",
                r.steps ?: "-",
                if (r.firstLoss == null) "-" else "${loss(r.firstLoss)} -> ${loss(r.finalLoss)}",
                loss(r.validationLoss),
                *(if (language) listOf(r.perplexity?.let { "%.2f".format(Locale.ROOT, it) } ?: "-")
                    else emptyList())
                    .toTypedArray(),
                *tasks
                    .map { t -> accuracy(r.iidAccuracy[t]) + " / " + accuracy(r.oodAccuracy[t]) }
                    .toTypedArray(),
                r.status,
            )
        }
        val groups = results.groupBy { it.variant to it.size }
        if (groups.values.none { it.size > 1 }) return cells.render()
        val seeds =
            TextTable(
                listOf("variant", "size", "seeds", "final loss", "held-out") +
                    tasks.map { "$it iid/ood" }
            )
        for ((key, group) in groups) {
            seeds.row(
                key.first,
                key.second ?: "-",
                group.size,
                spread(group.map { it.finalLoss }, ::loss),
                spread(group.map { it.validationLoss }, ::loss),
                *tasks
                    .map { t ->
                        spread(group.map { it.iidAccuracy[t] }, ::accuracy) +
                            " / " +
                            spread(group.map { it.oodAccuracy[t] }, ::accuracy)
                    }
                    .toTypedArray(),
            )
        }
        return cells.render() + "\n\n  Over seeds (mean ± standard deviation):\n" + seeds.render()
    }

    private fun loss(x: Double?): String = x?.let { "%.4f".format(Locale.ROOT, it) } ?: "-"

    private fun accuracy(x: Double?): String = x?.let(Format::percent) ?: "-"

    /** Mean ± sample standard deviation of the values every member has; `-` if one lacks it. */
    private fun spread(values: List<Double?>, format: (Double?) -> String): String {
        if (values.any { it == null }) return "-"
        val xs = values.filterNotNull()
        val mean = xs.average()
        val sd =
            if (xs.size < 2) 0.0 else sqrt(xs.sumOf { (it - mean) * (it - mean) } / (xs.size - 1))
        return "${format(mean)} ± ${format(sd)}"
    }
}
