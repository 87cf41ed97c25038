package looplab.pipelines.run

import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.sft.ChatEvaluator
import org.knowm.xchart.style.lines.SeriesLines
import org.knowm.xchart.style.markers.SeriesMarkers

/**
 * Draws `posttrain.png` for runs with SFT or GRPO stages: GRPO's reward curve (left), and held-out
 * chat answers through the post-training stages one after another (right), so a stage that helps or
 * hurts shows as a step in one line.
 */
internal object PostTrainingPlot {
    /** Batches averaged in the reward curve's smooth line. */
    private const val WINDOW = 10

    /** The PNG, or null when the events hold no post-training metrics. */
    fun draw(events: List<MetricEvent>): ByteArray? {
        val batches = events.filterIsInstance<TrainMetrics>().filter { REWARD in it.extra }
        val evals =
            events.filterIsInstance<EvalMetrics>().filter { e ->
                e.accuracy.any { it.task == ChatEvaluator.ANSWER }
            }
        if (batches.isEmpty() && evals.isEmpty()) return null
        return Plots.png(listOf(rewards(batches), answers(evals)))
    }

    private fun rewards(batches: List<TrainMetrics>): Plots.Plot {
        val plot =
            Plots.Plot(
                "GRPO: mean reward per batch (thin), over $WINDOW batches (thick); sampled accuracy (dashed)",
                "reward / accuracy of sampled completions",
                900,
            )
        val variants = batches.map { it.variant }.distinct()
        batches
            .groupBy { it.variant to it.stage }
            .forEach { (key, points) ->
                val colour = Plots.palette[variants.indexOf(key.first) % Plots.palette.size]
                val x = points.map { it.step.toDouble() }
                val reward = points.map { it.extra.getValue(REWARD) }
                plot.add("${key.first} ${key.second} reward", x, reward).apply {
                    marker = SeriesMarkers.NONE
                    lineColor = colour.brighter()
                    lineWidth = 0.8f
                }
                plot.add("${key.first} ${key.second} reward, mean", x, movingMean(reward)).apply {
                    marker = SeriesMarkers.NONE
                    lineColor = colour
                    lineWidth = 2.5f
                }
                points
                    .mapNotNull { p -> p.extra[SAMPLED_ACCURACY]?.let { p.step.toDouble() to it } }
                    .takeIf { it.isNotEmpty() }
                    ?.let { acc ->
                        plot
                            .add(
                                "${key.first} ${key.second} sampled accuracy, mean",
                                acc.map { it.first },
                                movingMean(acc.map { it.second }),
                            )
                            .apply {
                                marker = SeriesMarkers.NONE
                                lineColor = colour
                                lineStyle = SeriesLines.DASH_DASH
                            }
                    }
            }
        return plot
    }

    private fun answers(evals: List<EvalMetrics>): Plots.Plot {
        val plot =
            Plots.Plot(
                "Held-out chat answers, stage after stage (solid: right answer, dotted: format)",
                "share of held-out questions",
                900,
            )
        plot.chart.styler.yAxisMin = 0.0
        plot.chart.styler.yAxisMax = 1.0
        plot.chart.styler.yAxisDecimalPattern = "0%"
        // Training stages only: an eval stage measures once (step 0) and its figures are the
        // end of the stage it evaluates, which the curve already shows.
        val curves =
            evals.filter { e ->
                evals.any { it.stage == e.stage && it.variant == e.variant && it.step > 0 }
            }
        plot.chart.xAxisTitle =
            "step, stages laid end to end: " +
                curves.map { it.stage }.distinct().joinToString(" → ")
        val variants = curves.map { it.variant }.distinct()
        for (variant in variants) {
            val mine = curves.filter { it.variant == variant }
            // Each stage starts where the one before it ended.
            val offsets = LinkedHashMap<String, Long>()
            var end = 0L
            for (stage in mine.map { it.stage }.distinct()) {
                offsets[stage] = end
                end += mine.filter { it.stage == stage }.maxOf { it.step }
            }
            val colour = Plots.palette[variants.indexOf(variant) % Plots.palette.size]
            for (split in listOf("iid", "ood")) for (task in
                listOf(ChatEvaluator.ANSWER, ChatEvaluator.FORMAT)) {
                val points =
                    mine.mapNotNull { e ->
                        e.accuracy
                            .firstOrNull { it.task == task && it.split == split }
                            ?.let { (offsets.getValue(e.stage) + e.step).toDouble() to it.accuracy }
                    }
                if (points.isEmpty()) continue
                plot
                    .add("$variant $task $split", points.map { it.first }, points.map { it.second })
                    .apply {
                        lineColor = if (split == "iid") colour else colour.brighter()
                        markerColor = lineColor
                        marker = if (split == "iid") SeriesMarkers.CIRCLE else SeriesMarkers.DIAMOND
                        lineStyle =
                            if (task == ChatEvaluator.ANSWER) SeriesLines.SOLID
                            else SeriesLines.DOT_DOT
                    }
            }
        }
        return plot
    }

    /** Trailing mean over up to [WINDOW] values. */
    private fun movingMean(values: List<Double>): List<Double> =
        values.indices.map { i -> values.subList(maxOf(0, i - WINDOW + 1), i + 1).average() }

    private const val REWARD = "reward_mean"
    private const val SAMPLED_ACCURACY = "accuracy"
}
