package looplab.pipelines.eval

import java.io.ByteArrayOutputStream
import java.util.Locale
import org.knowm.xchart.BitmapEncoder
import org.knowm.xchart.HeatMapChartBuilder
import org.knowm.xchart.XYChartBuilder
import org.knowm.xchart.internal.chartpart.Chart
import org.knowm.xchart.style.lines.SeriesLines
import org.knowm.xchart.style.markers.SeriesMarkers

/** The suites' pictures: the needle heatmap and the loop curves. */
public object EvalPlots {
    init {
        System.setProperty("java.awt.headless", "true")
    }

    /**
     * Accuracy per (length, depth); lengths past the context have no cell and are named in the
     * title.
     */
    @JvmStatic
    public fun needles(results: NeedleResults, title: String): ByteArray {
        val lengths = results.cells.map { it.length }.distinct()
        val depths = results.cells.map { it.depth }.distinct()
        val past = results.cells.filter { !it.withinContext }.map { it.length }.distinct()
        val note =
            if (past.isEmpty()) ""
            else
                " (past the ${results.contextLength}-token context, not run: ${past.joinToString()})"
        val chart =
            HeatMapChartBuilder()
                .width(900)
                .height(520)
                .title("Needle retrieval, $title$note")
                .xAxisTitle("depth")
                .yAxisTitle("length (tokens)")
                .build()
        chart.styler.min = 0.0
        chart.styler.max = 1.0
        chart.styler.isShowValue = true
        val heat =
            results.cells
                .filter { it.withinContext }
                .map { c ->
                    arrayOf<Number>(
                        depths.indexOf(c.depth),
                        lengths.indexOf(c.length),
                        c.accuracy!!,
                    )
                }
        // XChart draws nothing without a cell: an all-past grid shows one empty cell.
        chart.addSeries(
            "accuracy",
            depths.map { "%.0f%%".format(Locale.ROOT, it * 100) },
            lengths.map { it.toString() },
            heat.ifEmpty { listOf(arrayOf<Number>(0, 0, 0.0)) },
        )
        return png(chart)
    }

    /**
     * Loss and accuracy against loops: the per-loop readout, the early-exit curve and depth
     * extrapolation.
     */
    @JvmStatic
    public fun loops(curves: LoopCurves, title: String): ByteArray {
        val chart =
            XYChartBuilder()
                .width(1000)
                .height(560)
                .title(
                    "Loops, $title: trained ${curves.trainedLoops} (solid: readout per loop, dashed: depth run, dotted: extrapolation)"
                )
                .xAxisTitle("loops")
                .yAxisTitle("accuracy (answer loss on the right)")
                .build()
        chart.styler.yAxisMin = 0.0
        chart.styler.yAxisMax = 1.0
        var series = 0
        fun add(
            name: String,
            points: List<LoopPoint>,
            pick: (LoopPoint) -> Double?,
            line: java.awt.BasicStroke,
        ) {
            val kept = points.mapNotNull { p -> pick(p)?.let { p.loops.toDouble() to it } }
            if (kept.isEmpty()) return
            chart
                .addSeries(
                    name,
                    kept.map { it.first }.toDoubleArray(),
                    kept.map { it.second }.toDoubleArray(),
                )
                .apply {
                    lineStyle = line
                    marker = SeriesMarkers.CIRCLE
                }
            series++
        }
        for ((label, points, line) in
            listOf(
                Triple("readout", curves.perLoop, SeriesLines.SOLID),
                Triple("depth", curves.earlyExit, SeriesLines.DASH_DASH),
                Triple("extrapolation", curves.extrapolation, SeriesLines.DOT_DOT),
            )) {
            add("$label iid accuracy", points, { it.iidAccuracy }, line)
            add("$label ood accuracy", points, { it.oodAccuracy }, line)
        }
        if (series == 0)
            chart.addSeries("no accuracy measured", doubleArrayOf(1.0), doubleArrayOf(0.0))
        val losses =
            XYChartBuilder()
                .width(1000)
                .height(400)
                .title("Loss per token against loops ($title)")
                .xAxisTitle("loops")
                .yAxisTitle("nats")
                .build()
        var lossSeries = 0
        for ((label, points, line) in
            listOf(
                Triple("readout", curves.perLoop, SeriesLines.SOLID),
                Triple("depth", curves.earlyExit, SeriesLines.DASH_DASH),
                Triple("extrapolation", curves.extrapolation, SeriesLines.DOT_DOT),
            )) {
            for ((name, pick) in
                listOf<Pair<String, (LoopPoint) -> Double?>>(
                    "iid loss" to { it.iidLoss },
                    "ood loss" to { it.oodLoss },
                    "language loss" to { it.languageLoss },
                )) {
                val kept =
                    points.mapNotNull { p ->
                        pick(p)?.takeIf { it.isFinite() }?.let { p.loops.toDouble() to it }
                    }
                if (kept.isEmpty()) continue
                losses
                    .addSeries(
                        "$label $name",
                        kept.map { it.first }.toDoubleArray(),
                        kept.map { it.second }.toDoubleArray(),
                    )
                    .apply {
                        lineStyle = line
                        marker = SeriesMarkers.CIRCLE
                    }
                lossSeries++
            }
        }
        if (lossSeries == 0)
            losses.addSeries("no loss measured", doubleArrayOf(1.0), doubleArrayOf(0.0))
        return if (curves.byLength.isEmpty()) stacked(chart, losses)
        else stacked(chart, losses, byLength(curves, title))
    }

    /**
     * Accuracy against depth for each task and length (out-of-distribution lengths dashed), with
     * each task's depth rule marked where it reads each length.
     */
    private fun byLength(curves: LoopCurves, title: String): Chart<*, *> {
        val rules =
            curves.depthRules.joinToString("; ") { "${it.task}: loops = length + ${it.offset}" }
        val chart =
            XYChartBuilder()
                .width(1000)
                .height(480)
                .title("Accuracy per length against loops, $title (rule: $rules)")
                .xAxisTitle("loops")
                .yAxisTitle("exact match")
                .build()
        chart.styler.yAxisMin = 0.0
        chart.styler.yAxisMax = 1.0
        for (c in curves.byLength) {
            chart
                .addSeries(
                    "${c.task} ${c.length}${if (c.ood) " (ood)" else ""}",
                    DoubleArray(c.accuracy.size) { it + 1.0 },
                    c.accuracy.toDoubleArray(),
                )
                .apply {
                    lineStyle = if (c.ood) SeriesLines.DASH_DASH else SeriesLines.SOLID
                    marker = SeriesMarkers.NONE
                }
        }
        for (rule in curves.depthRules) {
            val kept = rule.points.filter { it.accuracy != null }
            if (kept.isEmpty()) continue
            chart
                .addSeries(
                    "${rule.task} at its rule",
                    kept.map { it.loops.toDouble() }.toDoubleArray(),
                    kept.map { it.accuracy!! }.toDoubleArray(),
                )
                .apply {
                    lineStyle = SeriesLines.NONE
                    marker = SeriesMarkers.DIAMOND
                }
        }
        return chart
    }

    private fun png(chart: Chart<*, *>): ByteArray =
        ByteArrayOutputStream()
            .also { BitmapEncoder.saveBitmap(chart, it, BitmapEncoder.BitmapFormat.PNG) }
            .toByteArray()

    /** Charts one above the other in one PNG. */
    private fun stacked(vararg charts: Chart<*, *>): ByteArray {
        val images = charts.map { BitmapEncoder.getBufferedImage(it) }
        val image =
            java.awt.image.BufferedImage(
                images.maxOf { it.width },
                images.sumOf { it.height },
                java.awt.image.BufferedImage.TYPE_INT_RGB,
            )
        image.createGraphics().apply {
            color = java.awt.Color.WHITE
            fillRect(0, 0, image.width, image.height)
            var top = 0
            for (part in images) {
                drawImage(part, 0, top, null)
                top += part.height
            }
            dispose()
        }
        return ByteArrayOutputStream()
            .also { javax.imageio.ImageIO.write(image, "png", it) }
            .toByteArray()
    }
}
