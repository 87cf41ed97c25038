package looplab.pipelines.compare

import java.awt.Color
import java.io.ByteArrayOutputStream
import java.util.Locale
import org.knowm.xchart.BitmapEncoder
import org.knowm.xchart.XYChartBuilder
import org.knowm.xchart.XYSeries
import org.knowm.xchart.style.markers.SeriesMarkers

/** A [Comparison] as markdown, CSV and a picture of OOD accuracy against length with 95% bands. */
public object ComparisonReport {
    init {
        System.setProperty("java.awt.headless", "true")
    }

    @JvmStatic
    public fun markdown(c: Comparison): String = buildString {
        val tasks =
            c.rows
                .flatMap { r ->
                    r.stats.keys.filter { it.startsWith("iid/") }.map { it.removePrefix("iid/") }
                }
                .distinct()
        val needles =
            c.rows
                .flatMap { r -> r.stats.keys.filter { it.startsWith("needle/") } }
                .distinct()
                .sortedBy { it.removePrefix("needle/").toInt() }
        val hasLanguage = c.rows.any { "perplexity" in it.stats }
        val chat = CHAT_COLUMNS.filter { (key, _) -> c.rows.any { key in it.stats } }
        appendLine(
            "Mean ± 95% CI over seeds (Student t); accuracies in percent; baseline: ${c.baseline}."
        )
        appendLine()
        val header =
            listOf("variant", "stage", "seeds", "IID acc") +
                tasks.map { "$it IID" } +
                "OOD acc" +
                needles.map { "needle @${it.removePrefix("needle/")}" } +
                chat.map { it.second } +
                (if (hasLanguage) listOf("perplexity", "bits/byte") else emptyList()) +
                listOf("train time (s)", "time vs baseline")
        table(
            header,
            c.rows.map { r ->
                listOf(r.variant, r.stage, r.seeds.size.toString(), pct(r.stats["iid"])) +
                    tasks.map { pct(r.stats["iid/$it"]) } +
                    pct(r.stats["ood"]) +
                    needles.map { pct(r.stats[it]) } +
                    chat.map { pct(r.stats[it.first]) } +
                    (if (hasLanguage) listOf(num(r.stats["perplexity"], 2), num(r.stats["bpb"], 3))
                    else emptyList()) +
                    listOf(
                        num(r.stats["trainSeconds"], 0),
                        r.stats["timeRatio"]?.let { num(it, 2) + "×" } ?: "-",
                    )
            },
        )
        val oodKeys =
            c.rows
                .flatMap { r -> r.stats.keys.filter { it.startsWith("ood/") } }
                .distinct()
                .sortedWith(compareBy({ it.split("/")[1] }, { it.split("/")[2].toInt() }))
        if (oodKeys.isNotEmpty()) {
            appendLine()
            appendLine("OOD accuracy per length (percent):")
            appendLine()
            table(
                listOf("variant", "stage") +
                    oodKeys.map { it.removePrefix("ood/").replace("/", " @") },
                c.rows.map { r -> listOf(r.variant, r.stage) + oodKeys.map { pct(r.stats[it]) } },
            )
        }
        if (c.verdicts.isNotEmpty()) {
            appendLine()
            appendLine(
                "Seed 001's win criteria against ${c.baseline} (a difference counts only when its 95% interval excludes zero):"
            )
            appendLine()
            val names = c.verdicts.first().criteria.map { it.name }
            table(
                listOf("variant", "stage") + names + "verdict",
                c.verdicts.map { v ->
                    listOf(v.variant, v.stage) +
                        v.criteria.map {
                            (if (it.met == null) "n/a" else if (it.met) "yes" else "no") +
                                ": " +
                                it.evidence
                        } +
                        v.summary
                },
            )
        }
    }

    /** The chat suite's metrics and their column titles, in table order. */
    private val CHAT_COLUMNS =
        listOf(
            "chat/iid/format" to "chat format",
            "chat/iid/answer" to "chat answer IID",
            "chat/ood/format" to "chat format OOD",
            "chat/ood/answer" to "chat answer OOD",
        )

    /** One line per (variant, stage, metric): the mean, its 95% bounds and the number of seeds. */
    @JvmStatic
    public fun csv(c: Comparison): String = buildString {
        appendLine("variant,stage,metric,seeds,mean,ci95_low,ci95_high")
        for (r in c.rows) for ((metric, i) in r.stats) {
            appendLine(
                listOf(
                        r.variant,
                        r.stage,
                        metric,
                        i.n.toString(),
                        fmt(i.mean),
                        fmt(if (i.n < 2) Double.NaN else i.low),
                        fmt(if (i.n < 2) Double.NaN else i.high),
                    )
                    .joinToString(",")
            )
        }
        for (v in c.verdicts) for (k in v.criteria) {
            appendLine(
                listOf(
                        v.variant,
                        v.stage,
                        "criterion:${k.name}",
                        "",
                        if (k.met == null) "" else if (k.met) "1" else "0",
                        "",
                        "",
                    )
                    .joinToString(",")
            )
        }
    }

    /**
     * OOD accuracy against length, one panel per task: each variant's mean line inside its 95%
     * band.
     */
    @JvmStatic
    public fun oodPlot(c: Comparison): ByteArray {
        val tasks =
            c.rows
                .flatMap { r ->
                    r.stats.keys.filter { it.startsWith("ood/") }.map { it.split("/")[1] }
                }
                .distinct()
        val panels =
            tasks
                .ifEmpty { listOf("none") }
                .map { task ->
                    val chart =
                        XYChartBuilder()
                            .width(900)
                            .height(380)
                            .title("OOD accuracy, $task (band: 95% CI over seeds)")
                            .xAxisTitle("length")
                            .yAxisTitle("accuracy")
                            .build()
                    chart.styler.yAxisMin = 0.0
                    chart.styler.yAxisMax = 1.0
                    var series = 0
                    c.rows.forEachIndexed { index, r ->
                        val points =
                            r.stats
                                .filterKeys { it.startsWith("ood/$task/") }
                                .map { (k, i) -> k.split("/")[2].toDouble() to i }
                                .sortedBy { it.first }
                        if (points.isEmpty()) return@forEachIndexed
                        val color = PALETTE[index % PALETTE.size]
                        val name =
                            if (c.rows.map { it.stage }.distinct().size > 1)
                                "${r.variant} (${r.stage})"
                            else r.variant
                        if (points.all { it.second.n >= 2 }) {
                            val xs = points.map { it.first } + points.reversed().map { it.first }
                            val ys =
                                points.map { it.second.high.coerceIn(0.0, 1.0) } +
                                    points.reversed().map { it.second.low.coerceIn(0.0, 1.0) }
                            chart
                                .addSeries("$name 95% CI", xs.toDoubleArray(), ys.toDoubleArray())
                                .apply {
                                    setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.PolygonArea)
                                    fillColor = Color(color.red, color.green, color.blue, 60)
                                    lineColor = Color(0, 0, 0, 0)
                                    marker = SeriesMarkers.NONE
                                }
                        }
                        chart
                            .addSeries(
                                name,
                                points.map { it.first }.toDoubleArray(),
                                points.map { it.second.mean }.toDoubleArray(),
                            )
                            .apply {
                                lineColor = color
                                markerColor = color
                                marker = SeriesMarkers.CIRCLE
                            }
                        series++
                    }
                    if (series == 0)
                        chart.addSeries("no OOD results", doubleArrayOf(0.0), doubleArrayOf(0.0))
                    BitmapEncoder.getBufferedImage(chart)
                }
        val image =
            java.awt.image.BufferedImage(
                panels.maxOf { it.width },
                panels.sumOf { it.height },
                java.awt.image.BufferedImage.TYPE_INT_RGB,
            )
        image.createGraphics().apply {
            color = Color.WHITE
            fillRect(0, 0, image.width, image.height)
            var y = 0
            for (p in panels) {
                drawImage(p, 0, y, null)
                y += p.height
            }
            dispose()
        }
        return ByteArrayOutputStream()
            .also { javax.imageio.ImageIO.write(image, "png", it) }
            .toByteArray()
    }

    private val PALETTE =
        listOf(
            Color(31, 119, 180),
            Color(214, 39, 40),
            Color(44, 160, 44),
            Color(148, 103, 189),
            Color(255, 127, 14),
            Color(23, 190, 207),
        )

    private fun StringBuilder.table(header: List<String>, rows: List<List<String>>) {
        appendLine("| " + header.joinToString(" | ") + " |")
        appendLine("|" + header.joinToString("|") { "---" } + "|")
        rows.forEach { appendLine("| " + it.joinToString(" | ") + " |") }
    }

    private fun pct(i: Interval?): String =
        when {
            i == null -> "-"
            i.n < 2 -> "%.1f".format(Locale.ROOT, 100 * i.mean)
            else -> "%.1f ± %.1f".format(Locale.ROOT, 100 * i.mean, 100 * i.half)
        }

    private fun num(i: Interval?, digits: Int): String =
        when {
            i == null -> "-"
            i.n < 2 -> "%.${digits}f".format(Locale.ROOT, i.mean)
            else -> "%.${digits}f ± %.${digits}f".format(Locale.ROOT, i.mean, i.half)
        }

    private fun fmt(x: Double): String = if (x.isNaN()) "" else "%.6g".format(Locale.ROOT, x)
}
