package looplab.curriculum.tasks

import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `succ:4899=` → `4900`: the number plus one. Half of the numbers end in a run of nines, so carries
 * that travel far are common rather than rare. Length counts digits: trained on 1–4, tested on
 * 6–16.
 */
public object Successor : AlgorithmicTask {
    override val id: TaskId = Task.Successor
    override val lengthUnit: String = "digits"
    override val trainLengths: LengthRange = LengthRange(1, 4)
    override val oodLengths: List<Int> = listOf(6, 8, 12, 16)

    override fun sample(random: Random, length: Int): Example {
        var n = Digits.number(random, length)
        if (random.nextBoolean()) {
            val nines = 1 + random.nextInt(length)
            n = n.substring(0, length - nines) + "9".repeat(nines)
        }
        return Example("succ:$n=", increment(n))
    }

    private fun increment(n: String): String {
        val digits = n.toCharArray()
        var i = digits.lastIndex
        while (i >= 0 && digits[i] == '9') digits[i--] = '0'
        return if (i < 0) "1" + String(digits)
        else {
            digits[i] = digits[i] + 1
            String(digits)
        }
    }

    override fun maxChars(length: Int): Int = "succ:=".length + 2 * length + 1

    override fun maxAnswerChars(length: Int): Int = length + 1
}
