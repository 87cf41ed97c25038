package looplab.curriculum.tasks

import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `copy:qxbk=` → `qxbk`: repeat a string of random lowercase letters. Trained on 1–8, tested up
 * to 32.
 */
public object Copy : AlgorithmicTask {
    override val id: TaskId = Task.Copy
    override val lengthUnit: String = "letters"
    override val trainLengths: LengthRange = LengthRange(1, 8)
    override val oodLengths: List<Int> = listOf(12, 16, 24, 32)

    override fun sample(random: Random, length: Int): Example {
        val text = Letters.word(random, length)
        return Example("copy:$text=", text)
    }

    override fun maxChars(length: Int): Int = "copy:=".length + 2 * length

    override fun maxAnswerChars(length: Int): Int = length
}
