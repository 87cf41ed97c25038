package looplab.pipelines.posttrain.grpo

import kotlin.random.Random
import looplab.curriculum.chat.ChatGenerator
import looplab.curriculum.chat.ChatSplit
import looplab.curriculum.chat.Conversation

/**
 * `a+b` for digits a and b, answered in the answer tags: a task small enough that a tiny model,
 * warmed up on it, answers some and GRPO can be seen improving it in CPU minutes (the tests and
 * `looplab bench grpo-learn`). Out of distribution, one operand has two digits.
 */
public object DigitSums : ChatGenerator {
    override val id: String = "digit_sums"

    override fun sample(random: Random, split: ChatSplit): Conversation {
        val a = random.nextInt(10)
        val b =
            if (split == ChatSplit.InDistribution) random.nextInt(10) else 10 + random.nextInt(90)
        return Conversation.qa("$a+$b", "${a + b}")
    }
}
