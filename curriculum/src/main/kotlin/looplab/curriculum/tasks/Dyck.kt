package looplab.curriculum.tasks

import kotlin.random.Random
import looplab.dsl.LengthRange
import looplab.dsl.Task
import looplab.dsl.TaskId

/**
 * `dyck:([](=` → `))`: complete a prefix of a balanced sequence over two bracket kinds with the
 * closing brackets it needs, innermost first. Length counts the prefix's brackets; the prefix
 * always ends open, so the answer is never empty. Trained on 2–8, tested up to 32 (deeper nesting
 * needs a longer stack).
 */
public object Dyck : AlgorithmicTask {
    private const val OPEN = "(["
    private const val CLOSE = ")]"
    override val id: TaskId = Task.Dyck
    override val lengthUnit: String = "brackets"
    override val trainLengths: LengthRange = LengthRange(2, 8)
    override val oodLengths: List<Int> = listOf(12, 16, 24, 32)

    override fun sample(random: Random, length: Int): Example {
        val stack = ArrayDeque<Int>()
        val prefix = StringBuilder()
        repeat(length) { i ->
            val last = i == length - 1
            if (!last && stack.isNotEmpty() && random.nextBoolean()) {
                prefix.append(CLOSE[stack.removeLast()])
            } else {
                val kind = random.nextInt(OPEN.length)
                stack.addLast(kind)
                prefix.append(OPEN[kind])
            }
        }
        val answer = stack.reversed().joinToString("") { CLOSE[it].toString() }
        return Example("dyck:$prefix=", answer)
    }

    override fun maxChars(length: Int): Int = "dyck:=".length + 2 * length

    override fun maxAnswerChars(length: Int): Int = length
}
