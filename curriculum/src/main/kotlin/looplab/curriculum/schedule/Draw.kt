package looplab.curriculum.schedule

/**
 * How algorithmic samples are drawn during one segment of training (the steps between two
 * evaluation points): an immutable value computed from the curriculum state at the segment's start,
 * handed to every producer. Indices line up with the mixture's tasks.
 */
public data class Draw(
    /** Relative sampling weight of each task; 0 leaves a task out. */
    val weights: List<Double>,
    /**
     * Each task's current difficulty (a length), or null for uniform lengths over its training
     * range.
     */
    val levels: List<Int?>,
    /**
     * With a level set: the probability of a sample at an easier length (uniform from the range's
     * minimum to the level).
     */
    val jitter: Double = 0.0,
) {
    /**
     * Running sums of [weights], computed once per segment: a task is drawn with one uniform number
     * against them.
     */
    internal val cumulative: List<Double> = weights.runningFold(0.0) { acc, w -> acc + w }.drop(1)
}
