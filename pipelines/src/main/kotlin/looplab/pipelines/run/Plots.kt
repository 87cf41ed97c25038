package looplab.pipelines.run

import java.awt.BasicStroke
import java.awt.Color
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import javax.imageio.ImageIO
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import org.knowm.xchart.BitmapEncoder
import org.knowm.xchart.XYChart
import org.knowm.xchart.XYChartBuilder
import org.knowm.xchart.XYSeries
import org.knowm.xchart.style.Styler
import org.knowm.xchart.style.lines.SeriesLines
import org.knowm.xchart.style.markers.SeriesMarkers

/**
 * Draws `loss.png` and `accuracy.png` from the metrics of a run. A variant keeps one colour
 * everywhere, a task one line style, a training stage one marker; chance levels are drawn in grey.
 */
public object Plots {
    init {
        // Charts are drawn off-screen; never try to open a display.
        System.setProperty("java.awt.headless", "true")
    }

    /**
     * Distinct colours (Tableau's 10, then 10 darker/lighter ones): 20 variants before one repeats.
     */
    internal val palette =
        listOf(
                0x1f77b4,
                0xff7f0e,
                0x2ca02c,
                0xd62728,
                0x9467bd,
                0x8c564b,
                0xe377c2,
                0x7f7f7f,
                0xbcbd22,
                0x17becf,
                0x08306b,
                0xa63603,
                0x00441b,
                0x67000d,
                0x3f007d,
                0xfdae6b,
                0x74c476,
                0xfc9272,
                0xbcbddc,
                0x000000,
            )
            .map(::Color)
    internal val lineStyles =
        listOf(
            SeriesLines.SOLID,
            SeriesLines.DASH_DASH,
            SeriesLines.DOT_DOT,
            SeriesLines.DASH_DOT,
            BasicStroke(
                2f,
                BasicStroke.CAP_BUTT,
                BasicStroke.JOIN_MITER,
                10f,
                floatArrayOf(12f, 4f, 2f, 4f, 2f, 4f),
                0f,
            ),
        )
    internal val markers =
        listOf(
            SeriesMarkers.CIRCLE,
            SeriesMarkers.SQUARE,
            SeriesMarkers.DIAMOND,
            SeriesMarkers.TRIANGLE_UP,
            SeriesMarkers.CROSS,
        )
    internal val chanceGrey = Color(0x99, 0x99, 0x99)

    /**
     * Training loss (lines) and held-out loss (markers) against step, on a log scale with labelled
     * values; [uniformLoss] (ln of the vocabulary: a model that guesses uniformly) is drawn in
     * grey.
     */
    public fun loss(events: List<MetricEvent>, uniformLoss: Double? = null): ByteArray {
        val plot =
            Plot(
                "Loss: lines training, markers held-out (log scale)",
                "loss (nats per token)",
                1000,
            )
        plot.chart.styler.isYAxisLogarithmic = true
        plot.chart.styler.isYAxisLogarithmicDecadeOnly = false
        plot.chart.styler.yAxisDecimalPattern = "0.###"
        val train = events.filterIsInstance<TrainMetrics>().filter { it.loss > 0 }
        val held =
            events.filterIsInstance<EvalMetrics>().filter {
                (it.validationLoss ?: 0.0) > 0 && it.step > 0
            }
        val variants = (train.map { it.variant } + held.map { it.variant }).distinct()
        val stages = (train.map { it.stage } + held.map { it.stage }).distinct()
        fun label(variant: String, stage: String) =
            if (stages.size > 1) "$variant $stage" else variant
        train
            .groupBy { it.variant to it.stage }
            .forEach { (key, points) ->
                plot
                    .add(
                        "${label(key.first, key.second)} train",
                        points.map { it.step.toDouble() },
                        points.map { it.loss },
                    )
                    .apply {
                        marker = SeriesMarkers.NONE
                        lineColor = palette[variants.indexOf(key.first) % palette.size]
                        lineStyle = lineStyles[stages.indexOf(key.second) % lineStyles.size]
                    }
            }
        held
            .groupBy { it.variant to it.stage }
            .forEach { (key, points) ->
                plot
                    .add(
                        "${label(key.first, key.second)} held-out",
                        points.map { it.step.toDouble() },
                        points.map { it.validationLoss!! },
                    )
                    .apply {
                        setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter)
                        marker = markers[stages.indexOf(key.second) % markers.size]
                        markerColor = palette[variants.indexOf(key.first) % palette.size]
                    }
            }
        val steps = train.map { it.step.toDouble() }
        if (uniformLoss != null && steps.isNotEmpty()) {
            plot
                .add(
                    "chance: uniform guess, ln(vocabulary) = %.2f"
                        .format(java.util.Locale.ROOT, uniformLoss),
                    listOf(steps.min(), steps.max()),
                    listOf(uniformLoss, uniformLoss),
                )
                .apply {
                    marker = SeriesMarkers.NONE
                    lineColor = chanceGrey
                    lineStyle = SeriesLines.DASH_DASH
                }
        }
        return png(listOf(plot))
    }

    /**
     * Mean exact-match accuracy per task against step, in two panels: training lengths and out of
     * distribution. [chance] holds each task's accuracy of guessing (in distribution, out of it).
     */
    public fun accuracy(
        events: List<MetricEvent>,
        chance: Map<String, Pair<Double, Double>> = emptyMap(),
    ): ByteArray {
        // Periodic evaluations carry a step; eval stages (step 0) are tables, not curves.
        val evals =
            events.filterIsInstance<EvalMetrics>().filter {
                it.accuracy.isNotEmpty() && it.step > 0
            }
        val variants = evals.map { it.variant }.distinct()
        val stages = evals.map { it.stage }.distinct()
        val tasks = (evals.flatMap { e -> e.accuracy.map { it.task } } + chance.keys).distinct()
        val panels =
            listOf("iid" to "training lengths", "ood" to "out of distribution").map { (split, title)
                ->
                val plot = Plot("Accuracy, $title (grey: chance)", "exact-match accuracy", 800)
                plot.chart.styler.yAxisMin = 0.0
                plot.chart.styler.yAxisMax = 1.0
                plot.chart.styler.yAxisDecimalPattern = "0%"
                for (variant in variants) for (stage in stages) for (task in tasks) {
                    val points =
                        evals
                            .filter { it.variant == variant && it.stage == stage }
                            .mapNotNull { e ->
                                val cells =
                                    e.accuracy.filter { it.task == task && it.split == split }
                                if (cells.isEmpty()) null
                                else e.step.toDouble() to cells.map { it.accuracy }.average()
                            }
                    if (points.isEmpty()) continue
                    plot
                        .add(
                            (if (stages.size > 1) "$variant $stage $task" else "$variant $task"),
                            points.map { it.first },
                            points.map { it.second },
                        )
                        .apply {
                            lineColor = palette[variants.indexOf(variant) % palette.size]
                            markerColor = lineColor
                            lineStyle = lineStyles[tasks.indexOf(task) % lineStyles.size]
                            marker = markers[stages.indexOf(stage) % markers.size]
                        }
                }
                val steps = evals.map { it.step.toDouble() }
                for (task in tasks) {
                    val level =
                        chance[task]?.let { if (split == "iid") it.first else it.second }
                            ?: continue
                    if (level <= 0.0 || steps.isEmpty()) continue
                    plot
                        .add(
                            "chance $task (%.0f%%)".format(java.util.Locale.ROOT, 100 * level),
                            listOf(steps.min(), steps.max()),
                            listOf(level, level),
                        )
                        .apply {
                            marker = SeriesMarkers.NONE
                            lineColor = chanceGrey
                            lineStyle = lineStyles[tasks.indexOf(task) % lineStyles.size]
                        }
                }
                plot
            }
        return png(panels)
    }

    /** The panels side by side in one PNG. */
    internal fun png(plots: List<Plot>): ByteArray {
        val images = plots.map { BitmapEncoder.getBufferedImage(it.finished()) }
        val image =
            BufferedImage(
                images.sumOf { it.width },
                images.maxOf { it.height },
                BufferedImage.TYPE_INT_RGB,
            )
        val g = image.createGraphics()
        var x = 0
        for (panel in images) {
            g.drawImage(panel, x, 0, null)
            x += panel.width
        }
        g.dispose()
        return ByteArrayOutputStream().also { ImageIO.write(image, "png", it) }.toByteArray()
    }

    /** Series whose names fit in one legend row under a chart (about 1,000 pixels of names). */
    private const val MAX_SERIES_BELOW = 5

    internal class Plot(title: String, yTitle: String, width: Int) {
        val chart: XYChart =
            XYChartBuilder()
                .width(width)
                .height(600)
                .title(title)
                .xAxisTitle("step")
                .yAxisTitle(yTitle)
                .build()
                .apply {
                    styler.legendPosition = Styler.LegendPosition.OutsideS
                    styler.legendLayout = Styler.LegendLayout.Horizontal
                    styler.xAxisDecimalPattern = "#,##0"
                }
        private var series = 0

        fun add(name: String, x: List<Double>, y: List<Double>): XYSeries =
            chart.addSeries(name, x.toDoubleArray(), y.toDoubleArray()).also { series++ }

        fun finished(): XYChart {
            // XChart refuses to draw a chart without series.
            if (series == 0) add("no data yet", listOf(0.0), listOf(1.0))
            // A one-row legend below the chart is cut off at its width: many series are listed
            // beside it instead.
            if (series > MAX_SERIES_BELOW) {
                chart.styler.legendPosition = Styler.LegendPosition.OutsideE
                chart.styler.legendLayout = Styler.LegendLayout.Vertical
            }
            return chart
        }
    }
}
