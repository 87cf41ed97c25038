package looplab.curriculum.chat

import kotlin.random.Random
import looplab.curriculum.tasks.AlgorithmicTask

/**
 * An algorithmic task posed as a question: the user gives the task's prompt, the assistant answers
 * inside the answer tags. In distribution: a length of the task's training range; out of it: one of
 * its out-of-distribution lengths.
 */
public class TaskQuestionGenerator(private val task: AlgorithmicTask) : ChatGenerator {
    override val id: String = "task:${task.id.name}"

    override fun sample(random: Random, split: ChatSplit): Conversation {
        val length =
            when (split) {
                ChatSplit.InDistribution ->
                    task.trainLengths.min +
                        random.nextInt(task.trainLengths.max - task.trainLengths.min + 1)
                ChatSplit.OutOfDistribution -> task.oodLengths[random.nextInt(task.oodLengths.size)]
            }
        val example = task.sample(random, length)
        return Conversation.qa("Complete: ${example.prompt}", example.answer, system = SYSTEM)
    }

    private companion object {
        const val SYSTEM = "Give the completion as the final answer."
    }
}
