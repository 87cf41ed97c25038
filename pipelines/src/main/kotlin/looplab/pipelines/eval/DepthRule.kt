package looplab.pipelines.eval

import kotlinx.serialization.Serializable

/**
 * Exact-match accuracy on one task at one problem length against depth: [accuracy] at index `d − 1`
 * is the readout after loop `d` of one pass of `accuracy.size` loops.
 */
@Serializable
public data class LengthCurve(
    val task: String,
    val length: Int,
    val ood: Boolean,
    val accuracy: List<Double>,
)

/** What a [DepthRule] gives at one length: [loops] = length + offset; null past the depths run. */
@Serializable
public data class RuledPoint(
    val length: Int,
    val ood: Boolean,
    val loops: Int,
    val accuracy: Double?,
)

/**
 * Depth that follows the input, `loops = length + offset`, for one task (the length in the task's
 * unit: bits, digits), as looped models that extrapolate are run (Fan et al. 2024 run n steps on an
 * input of length n). The offset is chosen on the training lengths only, so the out-of-distribution
 * [points] test the rule rather than pick the best depth per length.
 */
@Serializable
public data class DepthRule(
    val task: String,
    val offset: Int,
    /** Mean accuracy over the training lengths at their ruled depths. */
    val iidAccuracy: Double,
    val points: List<RuledPoint>,
) {
    public companion object {
        /**
         * The rule for one task's [curves]; null without training lengths or when no offset keeps
         * every training length within the depths run. Of the offsets with the best mean accuracy
         * on the training lengths, it takes the middle of the longest run of consecutive ones: at
         * the edge of a plateau a longer input may need one loop more (or less) than it has.
         */
        @JvmStatic
        public fun fit(curves: List<LengthCurve>): DepthRule? {
            val iid = curves.filter { !it.ood }
            if (iid.isEmpty()) return null
            require(curves.map { it.task }.distinct().size == 1) {
                "a depth rule is fitted per task, got ${curves.map { it.task }.distinct()}"
            }
            val depths = iid.minOf { it.accuracy.size }
            val offsets = (1 - iid.minOf { it.length })..(depths - iid.maxOf { it.length })
            if (offsets.isEmpty()) return null
            val mean =
                offsets.associateWith { o -> iid.map { it.accuracy[it.length + o - 1] }.average() }
            val best = mean.values.max()
            val offset = middleOfLongestRun(offsets.filter { mean.getValue(it) >= best - 1e-12 })
            val points =
                curves.map {
                    val loops = it.length + offset
                    RuledPoint(it.length, it.ood, loops, it.accuracy.getOrNull(loops - 1))
                }
            return DepthRule(curves.first().task, offset, mean.getValue(offset), points)
        }

        private fun middleOfLongestRun(sorted: List<Int>): Int {
            var bestStart = 0
            var bestSize = 0
            var start = 0
            for (i in sorted.indices) {
                if (i > 0 && sorted[i] != sorted[i - 1] + 1) start = i
                if (i - start + 1 > bestSize) {
                    bestStart = start
                    bestSize = i - start + 1
                }
            }
            return sorted[bestStart + (bestSize - 1) / 2]
        }
    }
}
