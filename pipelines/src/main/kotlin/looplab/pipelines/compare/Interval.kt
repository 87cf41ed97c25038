package looplab.pipelines.compare

import kotlin.math.sqrt

/**
 * A mean over [n] values with its 95% confidence interval from Student's t: `mean ± t(0.975,
 * n−1)·s/√n` (s the sample standard deviation). One value has no interval ([half] is NaN).
 */
public data class Interval(val mean: Double, val half: Double, val n: Int) {
    val low: Double
        get() = mean - half

    val high: Double
        get() = mean + half

    /** True when the whole interval lies above [value] (an interval of one value never does). */
    public fun above(value: Double): Boolean = n >= 2 && low > value

    /** True when the whole interval lies below [value]. */
    public fun below(value: Double): Boolean = n >= 2 && high < value

    public companion object {
        @JvmStatic
        public fun of(values: List<Double>): Interval {
            require(values.isNotEmpty()) { "an interval needs at least one value" }
            val n = values.size
            val mean = values.average()
            if (n == 1) return Interval(mean, Double.NaN, 1)
            val variance = values.sumOf { (it - mean) * (it - mean) } / (n - 1)
            return Interval(mean, studentT975(n - 1) * sqrt(variance / n), n)
        }

        /**
         * The two-sided 95% quantile of Student's t with [df] degrees of freedom (table to 30, then
         * the normal limit's series).
         */
        @JvmStatic
        public fun studentT975(df: Int): Double {
            require(df >= 1) { "degrees of freedom must be ≥ 1, was $df" }
            if (df <= TABLE.size) return TABLE[df - 1]
            // Cornish-Fisher expansion around z = 1.959964; within 1e-4 of the exact quantile past
            // 30.
            val z = 1.959963985
            val g1 = (z * z * z + z) / 4
            val g2 = (5 * z.pow5() + 16 * z * z * z + 3 * z) / 96
            return z + g1 / df + g2 / (df.toDouble() * df)
        }

        private fun Double.pow5() = this * this * this * this * this

        private val TABLE =
            doubleArrayOf(
                12.706205,
                4.302653,
                3.182446,
                2.776445,
                2.570582,
                2.446912,
                2.364624,
                2.306004,
                2.262157,
                2.228139,
                2.200985,
                2.178813,
                2.160369,
                2.144787,
                2.131450,
                2.119905,
                2.109816,
                2.100922,
                2.093024,
                2.085963,
                2.079614,
                2.073873,
                2.068658,
                2.063899,
                2.059539,
                2.055529,
                2.051831,
                2.048407,
                2.045230,
                2.042272,
            )
    }
}
