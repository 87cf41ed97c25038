package looplab.curriculum.tasks

import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `parity:10110=` → `1`: whether the bit string has an odd number of ones. Trained on 1–8 bits,
 * tested up to 64 (seed 001).
 */
public object Parity : AlgorithmicTask {
    override val id: TaskId = Task.Parity
    override val lengthUnit: String = "bits"
    override val trainLengths: LengthRange = LengthRange(1, 8)
    override val oodLengths: List<Int> = listOf(12, 16, 24, 32, 48, 64)

    override fun sample(random: Random, length: Int): Example {
        val bits = CharArray(length) { if (random.nextBoolean()) '1' else '0' }
        val ones = bits.count { it == '1' }
        return Example("parity:${String(bits)}=", if (ones % 2 == 1) "1" else "0")
    }

    override fun maxChars(length: Int): Int = "parity:=".length + length + 1

    override fun maxAnswerChars(length: Int): Int = 1

    override fun chance(length: Int): Double = 0.5
}
