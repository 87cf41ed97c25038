package looplab.curriculum.chat

import looplab.curriculum.text.ChatTags
import looplab.dsl.RewardSpec

/** What a completion earned, and why. */
public data class Reward(
    /** The answer block holds exactly the reference. */
    val correct: Boolean,
    /**
     * Well-formed: at most one closed think block first, then exactly one closed answer block
     * holding an answer of the reference's form (no surrounding whitespace, as many words), nothing
     * after it.
     */
    val wellFormed: Boolean,
    /** Longer than the limit: no reward at all. */
    val tooLong: Boolean,
    val value: Double,
)

/**
 * The verifiable reward of GRPO. Loose answer extraction gets hacked (nano-osrt's lesson), so this
 * one is strict: the answer is the text strictly between the single `<|answer|>` and its
 * `<|/answer|>`, compared exactly with the reference; an answer anywhere else, two answer blocks,
 * an unclosed tag, text after the block or extra text inside it earn nothing for correctness.
 */
public class AnswerReward(private val spec: RewardSpec) {
    /**
     * The reward of [completion] (the assistant's decoded text, without its EOS) of [tokens] tokens
     * against [reference].
     */
    public fun score(completion: String, reference: String, tokens: Int): Reward {
        val tooLong = spec.maxTokens?.let { tokens > it } ?: false
        val answer = strictAnswer(completion)
        // Text around the answer inside the tag is not the format asked for, even though the tags
        // are.
        val wellFormed =
            answer != null &&
                answer.isNotEmpty() &&
                answer == answer.trim() &&
                words(answer) == words(reference)
        val correct = answer == reference
        val value =
            if (tooLong) 0.0
            else (if (correct) spec.correct else 0.0) + (if (wellFormed) spec.format else 0.0)
        return Reward(correct && !tooLong, wellFormed, tooLong, value)
    }

    private fun words(text: String): Int = text.trim().split(Regex("\\s+")).size

    public companion object {
        /**
         * The text of the single answer block if [completion] is well-formed: optionally one think
         * block (opened and closed once, before the answer), free text, then exactly one answer
         * block and nothing but whitespace after it; null otherwise.
         */
        @JvmStatic
        public fun strictAnswer(completion: String): String? {
            fun count(tag: String) = completion.windowed(tag.length).count { it == tag }
            if (count(ChatTags.ANSWER) != 1 || count(ChatTags.END_ANSWER) != 1) return null
            val open = completion.indexOf(ChatTags.ANSWER)
            val close = completion.indexOf(ChatTags.END_ANSWER)
            if (close < open) return null
            if (completion.substring(close + ChatTags.END_ANSWER.length).isNotBlank()) return null
            val thinks = count(ChatTags.THINK)
            val endThinks = count(ChatTags.END_THINK)
            if (thinks != endThinks || thinks > 1) return null
            if (
                thinks == 1 &&
                    !(completion.indexOf(ChatTags.THINK) < completion.indexOf(ChatTags.END_THINK) &&
                        completion.indexOf(ChatTags.END_THINK) < open)
            )
                return null
            val inside = completion.substring(open + ChatTags.ANSWER.length, close)
            // No other tag may sit inside the answer.
            if (ChatTags.all.any { it in inside }) return null
            return inside
        }
    }
}
