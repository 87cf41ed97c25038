package looplab.curriculum.tasks

import java.math.BigInteger
import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `mul:482*97=` → `46754`: decimal multiplication where the longer operand has exactly `length`
 * digits and the other between 1 and `length`. Trained on 1–3 digits, tested on 4–6.
 */
public object Multiplication : AlgorithmicTask {
    override val id: TaskId = Task.Multiplication
    override val lengthUnit: String = "digits"
    override val trainLengths: LengthRange = LengthRange(1, 3)
    override val oodLengths: List<Int> = listOf(4, 5, 6)

    override fun sample(random: Random, length: Int): Example {
        val a = Digits.number(random, length)
        val b = Digits.number(random, 1 + random.nextInt(length))
        val (left, right) = if (random.nextBoolean()) a to b else b to a
        return Example("mul:$left*$right=", (BigInteger(left) * BigInteger(right)).toString())
    }

    override fun maxChars(length: Int): Int = "mul:*=".length + 2 * length + 2 * length

    override fun maxAnswerChars(length: Int): Int = 2 * length
}
