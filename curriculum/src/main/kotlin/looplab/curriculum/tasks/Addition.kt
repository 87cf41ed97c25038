package looplab.curriculum.tasks

import java.math.BigInteger
import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `add:4821+97=` → `4918`: decimal addition where the longer operand has exactly `length` digits
 * and the other between 1 and `length`. Trained on 1–4 digits, tested on 5–8 (seed 001).
 */
public object Addition : AlgorithmicTask {
    override val id: TaskId = Task.Addition
    override val lengthUnit: String = "digits"
    override val trainLengths: LengthRange = LengthRange(1, 4)
    override val oodLengths: List<Int> = listOf(5, 6, 7, 8)

    override fun sample(random: Random, length: Int): Example {
        val a = Digits.number(random, length)
        val b = Digits.number(random, 1 + random.nextInt(length))
        val (left, right) = if (random.nextBoolean()) a to b else b to a
        return Example("add:$left+$right=", (BigInteger(left) + BigInteger(right)).toString())
    }

    override fun maxChars(length: Int): Int = "add:+=".length + 2 * length + length + 1

    override fun maxAnswerChars(length: Int): Int = length + 1
}
