package looplab.pipelines.run

import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import org.knowm.xchart.BitmapEncoder
import org.knowm.xchart.XYChart
import org.knowm.xchart.XYChartBuilder
import org.knowm.xchart.XYSeries
import org.knowm.xchart.style.lines.SeriesLines
import org.knowm.xchart.style.markers.SeriesMarkers
import java.io.ByteArrayOutputStream

/** Draws `loss.png` and `accuracy.png` from the metrics of a run, all variants on one chart each. */
public object Plots {
    init {
        // Charts are drawn off-screen; never try to open a display.
        System.setProperty("java.awt.headless", "true")
    }

    /** Training loss (lines) and held-out loss (markers) against step, on a log scale. */
    public fun loss(events: List<MetricEvent>): ByteArray {
        val plot = Plot("Loss (log scale)", "loss").apply { chart.styler.isYAxisLogarithmic = true }
        events.filterIsInstance<TrainMetrics>().filter { it.loss > 0 }.groupBy { "${it.variant} ${it.stage}" }.forEach { (name, points) ->
            plot.add("$name train", points.map { it.step.toDouble() }, points.map { it.loss }).marker = SeriesMarkers.NONE
        }
        events.filterIsInstance<EvalMetrics>().filter { (it.validationLoss ?: 0.0) > 0 }.groupBy { "${it.variant} ${it.stage}" }.forEach { (name, points) ->
            plot.add("$name held-out", points.map { it.step.toDouble() }, points.map { it.validationLoss!! })
                .setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter)
        }
        return plot.png()
    }

    /** Mean exact-match accuracy per task against step: solid in distribution, dashed out of it. */
    public fun accuracy(events: List<MetricEvent>): ByteArray {
        val plot = Plot("Accuracy per task (solid: training lengths, dashed: out of distribution)", "accuracy")
        plot.chart.styler.yAxisMin = 0.0
        plot.chart.styler.yAxisMax = 1.0
        // Periodic evaluations carry a step; eval stages (step 0) are tables, not curves.
        val evals = events.filterIsInstance<EvalMetrics>().filter { it.accuracy.isNotEmpty() && it.step > 0 }
        val series = evals.flatMap { e -> e.accuracy.map { Triple(e.variant, it.task, it.split) } }.distinct()
        for ((variant, task, split) in series) {
            val points = evals.filter { it.variant == variant }.mapNotNull { e ->
                val cells = e.accuracy.filter { it.task == task && it.split == split }
                if (cells.isEmpty()) null else e.step.toDouble() to cells.map { it.accuracy }.average()
            }
            plot.add("$variant $task $split", points.map { it.first }, points.map { it.second }).apply {
                marker = SeriesMarkers.CIRCLE
                if (split == "ood") lineStyle = SeriesLines.DASH_DASH
            }
        }
        return plot.png()
    }

    private class Plot(title: String, yTitle: String) {
        val chart: XYChart = XYChartBuilder().width(1000).height(560).title(title).xAxisTitle("step").yAxisTitle(yTitle).build()
        private var series = 0

        fun add(name: String, x: List<Double>, y: List<Double>): XYSeries =
            chart.addSeries(name, x.toDoubleArray(), y.toDoubleArray()).also { series++ }

        fun png(): ByteArray {
            // XChart refuses to draw a chart without series.
            if (series == 0) add("no data yet", listOf(0.0), listOf(1.0))
            return ByteArrayOutputStream().also { BitmapEncoder.saveBitmap(chart, it, BitmapEncoder.BitmapFormat.PNG) }.toByteArray()
        }
    }
}
