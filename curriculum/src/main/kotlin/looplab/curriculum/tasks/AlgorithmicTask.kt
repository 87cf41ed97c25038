package looplab.curriculum.tasks

import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.TaskId

/** One problem: the model reads [prompt] and must produce [answer] exactly. */
public data class Example(val prompt: String, val answer: String)

/**
 * A procedurally generated task. Implement it to add your own: give it an [id], say what a length
 * means, and generate examples from the random source you are handed (use nothing else, so that
 * generation stays reproducible).
 */
public interface AlgorithmicTask {
    public val id: TaskId

    /** What "length" counts for this task, for plans and reports (e.g. "bits", "digits"). */
    public val lengthUnit: String

    /** Lengths trained on unless the experiment says otherwise. */
    public val trainLengths: LengthRange

    /** Lengths tested out of distribution unless the experiment says otherwise. */
    public val oodLengths: List<Int>

    /** An example of [length], drawn from [random] only. */
    public fun sample(random: Random, length: Int): Example

    /** The longest prompt + answer, in characters, that [sample] can produce at [length]. */
    public fun maxChars(length: Int): Int

    /** The longest answer, in characters, at [length]: what decoding must have room for. */
    public fun maxAnswerChars(length: Int): Int

    /**
     * The probability of answering right by guessing the most common answer blindly, so reports can
     * say what "above chance" means (0 where the answer space is large).
     */
    public fun chance(length: Int): Double = 0.0
}
