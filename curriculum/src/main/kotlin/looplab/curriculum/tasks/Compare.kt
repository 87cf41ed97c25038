package looplab.curriculum.tasks

import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `cmp:4821,4812=` → `>`: compare two numbers of the same `length` digits (`<`, `=` or `>`). Equal
 * lengths force a digit-by-digit comparison; one pair in eight is equal, and the others often share
 * a prefix, so the deciding digit can be anywhere. Trained on 1–4 digits, tested on 6–16.
 */
public object Compare : AlgorithmicTask {
    override val id: TaskId = Task.Compare
    override val lengthUnit: String = "digits"
    override val trainLengths: LengthRange = LengthRange(1, 4)
    override val oodLengths: List<Int> = listOf(6, 8, 12, 16)

    override fun sample(random: Random, length: Int): Example {
        val a = Digits.number(random, length)
        val b =
            when {
                random.nextInt(8) == 0 -> a
                // Share a random prefix with a, then differ: the deciding digit is not always the
                // first.
                else -> {
                    val shared = random.nextInt(length)
                    val tail = Digits.number(random, length).substring(shared)
                    val candidate = a.substring(0, shared) + tail
                    if (candidate[0] == '0' && length > 1)
                        a.substring(0, 1) + candidate.substring(1)
                    else candidate
                }
            }
        val order = a.compareTo(b) // equal lengths, no leading zeros: string order is numeric order
        return Example("cmp:$a,$b=", if (order < 0) "<" else if (order > 0) ">" else "=")
    }

    override fun maxChars(length: Int): Int = "cmp:,=".length + 2 * length + 1

    override fun maxAnswerChars(length: Int): Int = 1

    override fun chance(length: Int): Double = 0.5
}
