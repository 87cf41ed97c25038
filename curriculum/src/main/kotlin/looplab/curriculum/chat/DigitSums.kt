package looplab.curriculum.chat

import kotlin.random.Random

/**
 * `a+b` for digits a and b, answered in the answer tags: arithmetic small enough that a tiny model,
 * tuned on it, answers some and GRPO can be seen improving it in CPU minutes (`osrt-pipeline`,
 * `looplab bench grpo-learn`). Built in as `digitSums()` (generator id `digit_sums`). Out of
 * distribution, one operand has two digits.
 */
public object DigitSums : ChatGenerator {
    override val id: String = looplab.dsl.DIGIT_SUMS

    override fun sample(random: Random, split: ChatSplit): Conversation {
        val a = random.nextInt(10)
        val b =
            if (split == ChatSplit.InDistribution) random.nextInt(10) else 10 + random.nextInt(90)
        return Conversation.qa("$a+$b", "${a + b}")
    }
}
