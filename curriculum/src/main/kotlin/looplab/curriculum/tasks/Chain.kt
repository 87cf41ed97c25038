package looplab.curriculum.tasks

import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `chain:3+4*2-5=` → `9`: a starting digit then `length` operations (`+d`, `-d`, `*d`), applied
 * left to right (no precedence) modulo 10, so every intermediate value is one digit and each step
 * depends on the one before: multi-step arithmetic whose depth is the length. Trained on 1–4
 * operations, tested on 6–16.
 */
public object Chain : AlgorithmicTask {
    private const val OPS = "+-*"
    override val id: TaskId = Task.Chain
    override val lengthUnit: String = "operations"
    override val trainLengths: LengthRange = LengthRange(1, 4)
    override val oodLengths: List<Int> = listOf(6, 8, 12, 16)

    override fun sample(random: Random, length: Int): Example {
        var value = random.nextInt(10)
        val text = StringBuilder("chain:").append(value)
        repeat(length) {
            val op = OPS[random.nextInt(OPS.length)]
            val d = random.nextInt(10)
            value =
                when (op) {
                    '+' -> (value + d) % 10
                    '-' -> (value - d + 10) % 10
                    else -> (value * d) % 10
                }
            text.append(op).append(d)
        }
        return Example(text.append('=').toString(), value.toString())
    }

    override fun maxChars(length: Int): Int = "chain:=".length + 1 + 2 * length + 1

    override fun maxAnswerChars(length: Int): Int = 1

    override fun chance(length: Int): Double = 0.1
}
