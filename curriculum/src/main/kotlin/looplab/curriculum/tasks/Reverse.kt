package looplab.curriculum.tasks

import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `rev:qxbk=` → `kbxq`: a string of random lowercase letters backwards. Trained on 1–8, tested up
 * to 32.
 */
public object Reverse : AlgorithmicTask {
    override val id: TaskId = Task.Reverse
    override val lengthUnit: String = "letters"
    override val trainLengths: LengthRange = LengthRange(1, 8)
    override val oodLengths: List<Int> = listOf(12, 16, 24, 32)

    override fun sample(random: Random, length: Int): Example {
        val text = Letters.word(random, length)
        return Example("rev:$text=", text.reversed())
    }

    override fun maxChars(length: Int): Int = "rev:=".length + 2 * length

    override fun maxAnswerChars(length: Int): Int = length
}
