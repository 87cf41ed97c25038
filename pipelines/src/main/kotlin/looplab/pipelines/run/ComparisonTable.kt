package looplab.pipelines.run

import looplab.pipelines.plan.Format
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.TextTable
import java.util.Locale

/** The table a run ends with: one row per variant, cost and outcome side by side. */
public object ComparisonTable {
    public fun render(plan: Plan, summary: RunSummary): String {
        val tasks = plan.data.tasks.map { it.task }
        val text = plan.data.language != null
        val header = listOf("variant", "params", "effective", "train time", "tok/s", "loss first -> last", "held-out") +
            (if (text) listOf("ppl / bits per byte (gzip %.2f)".format(Locale.ROOT, plan.data.language!!.gzipBitsPerByte)) else emptyList()) +
            tasks.map { "$it iid/ood" } + "status"
        val table = TextTable(header)
        for (v in summary.variants) {
            val train = v.stages.values.firstOrNull { it.kind == "pretrain" }
            // Accuracy from the last stage that measured any: an eval stage, or the final periodic evaluation.
            val measured = v.stages.values.lastOrNull { it.iidAccuracy.isNotEmpty() || it.oodAccuracy.isNotEmpty() }
            val scored = v.stages.values.lastOrNull { it.perplexity != null }
            val language = if (!text) emptyList() else listOf(scored?.let { "%.2f / %.3f".format(Locale.ROOT, it.perplexity, it.bitsPerByte) } ?: "-")
            val cells = language + tasks.map { t ->
                val iid = measured?.iidAccuracy?.get(t)
                val ood = measured?.oodAccuracy?.get(t)
                if (iid == null && ood == null) "-" else "${iid?.let(Format::percent) ?: "-"} / ${ood?.let(Format::percent) ?: "-"}"
            }
            table.row(
                v.name, Format.count(v.physicalParams), Format.count(v.effectiveParams),
                train?.trainSeconds?.let(Format::seconds) ?: "-",
                train?.tokensPerSecond?.let(Format::count) ?: "-",
                train?.let { "%.3f -> %.3f".format(Locale.ROOT, it.firstLoss ?: Double.NaN, it.finalLoss ?: Double.NaN) } ?: "-",
                train?.validationLoss?.let { "%.3f".format(Locale.ROOT, it) } ?: "-",
                *cells.toTypedArray(),
                v.status + (v.error?.let { ": $it" } ?: ""),
            )
        }
        return table.render()
    }
}
