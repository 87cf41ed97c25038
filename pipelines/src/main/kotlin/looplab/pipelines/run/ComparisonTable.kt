package looplab.pipelines.run

import java.util.Locale
import looplab.pipelines.plan.Format
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.TextTable

/**
 * The table a run ends with: one row per (variant, training stage), cost and outcome side by side,
 * and a last row, "chance", with each task's accuracy of guessing, so that a number can be read
 * against it.
 */
public object ComparisonTable {
    public fun render(plan: Plan, summary: RunSummary): String {
        val tasks = plan.data.tasks
        val text = plan.data.language != null
        val trainStages = plan.stages.filter { it.kind == "pretrain" }
        val showStage = trainStages.size > 1
        val header =
            listOf("variant") +
                (if (showStage) listOf("stage") else emptyList()) +
                listOf(
                    "params",
                    "effective",
                    "train time",
                    "tok/s",
                    "loss first -> last",
                    "held-out",
                ) +
                (if (text)
                    listOf(
                        "ppl / bits per byte (gzip %.2f)"
                            .format(Locale.ROOT, plan.data.language!!.gzipBitsPerByte)
                    )
                else emptyList()) +
                tasks.map { "${it.task} iid/ood" } +
                "status"
        val table = TextTable(header)
        for (v in summary.variants) for (stagePlan in trainStages) {
            val train = v.stages[stagePlan.id]
            // Accuracy from the last eval stage of this stage's weights, else the stage's own last
            // periodic evaluation.
            val evals =
                plan.stages
                    .filter { it.kind == "eval" && it.from == stagePlan.id }
                    .mapNotNull { v.stages[it.id] }
            val measured =
                (evals + listOfNotNull(train)).lastOrNull {
                    it.iidAccuracy.isNotEmpty() || it.oodAccuracy.isNotEmpty()
                }
            val scored = (evals + listOfNotNull(train)).lastOrNull { it.perplexity != null }
            val language =
                if (!text) emptyList()
                else
                    listOf(
                        scored?.let {
                            "%.2f / %.3f".format(Locale.ROOT, it.perplexity, it.bitsPerByte)
                        } ?: "-"
                    )
            val cells =
                language +
                    tasks.map { t ->
                        pair(measured?.iidAccuracy?.get(t.task), measured?.oodAccuracy?.get(t.task))
                    }
            table.row(
                v.name,
                *(if (showStage) arrayOf(stagePlan.id) else emptyArray()),
                Format.count(v.physicalParams),
                Format.count(v.effectiveParams),
                train?.trainSeconds?.let(Format::seconds) ?: "-",
                train?.tokensPerSecond?.let(Format::count) ?: "-",
                train?.let {
                    "%.3f -> %.3f"
                        .format(Locale.ROOT, it.firstLoss ?: Double.NaN, it.finalLoss ?: Double.NaN)
                } ?: "-",
                train?.validationLoss?.let { "%.3f".format(Locale.ROOT, it) } ?: "-",
                *cells.toTypedArray(),
                v.status + (v.error?.let { ": $it" } ?: ""),
            )
        }
        if (tasks.isNotEmpty()) {
            val blanks = List(header.size - tasks.size - 2 - (if (text) 1 else 0)) { "" }
            table.row(
                "chance",
                *blanks.toTypedArray(),
                *(if (text) arrayOf("") else emptyArray()),
                *tasks.map { pair(it.chanceIid, it.chanceOod) }.toTypedArray(),
                "guessing",
            )
        }
        return table.render()
    }

    private fun pair(iid: Double?, ood: Double?): String =
        if (iid == null && ood == null) "-"
        else "${iid?.let(Format::percent) ?: "-"} / ${ood?.let(Format::percent) ?: "-"}"
}
