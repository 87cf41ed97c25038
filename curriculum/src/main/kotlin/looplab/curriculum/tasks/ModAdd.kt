package looplab.curriculum.tasks

import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `mod13:3+12+7=` → `9`: the sum of `length` terms, each in 0..12, modulo 13. Length counts terms:
 * trained on 2–4, tested on 6–16, where a model must keep a running residue over more steps.
 */
public object ModAdd : AlgorithmicTask {
    public const val MODULUS: Int = 13
    override val id: TaskId = Task.ModAdd
    override val lengthUnit: String = "terms"
    override val trainLengths: LengthRange = LengthRange(2, 4)
    override val oodLengths: List<Int> = listOf(6, 8, 12, 16)

    override fun sample(random: Random, length: Int): Example {
        val terms = List(length) { random.nextInt(MODULUS) }
        return Example(
            "mod$MODULUS:${terms.joinToString("+")}=",
            (terms.sum() % MODULUS).toString(),
        )
    }

    override fun maxChars(length: Int): Int = "mod13:=".length + 3 * length + 2

    override fun maxAnswerChars(length: Int): Int = 2

    override fun chance(length: Int): Double = 1.0 / MODULUS
}
