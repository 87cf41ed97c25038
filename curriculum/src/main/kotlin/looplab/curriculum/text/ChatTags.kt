package looplab.curriculum.text

/**
 * The chat and reasoning tags of seed 004 (nano-osrt), each a single token in every tokenizer that
 * looplab builds or extends, so that SFT masks and GRPO answer extraction never split a tag.
 */
public object ChatTags {
    public const val SYSTEM: String = "<|system|>"
    public const val USER: String = "<|user|>"
    public const val ASSISTANT: String = "<|assistant|>"
    public const val THINK: String = "<|think|>"
    public const val END_THINK: String = "<|/think|>"
    public const val ANSWER: String = "<|answer|>"
    public const val END_ANSWER: String = "<|/answer|>"

    public val all: List<String> =
        listOf(SYSTEM, USER, ASSISTANT, THINK, END_THINK, ANSWER, END_ANSWER)
}

/**
 * The chat tags numbered consecutively from [firstId]: what a tokenizer needs to encode, decode and
 * look them up.
 */
internal class ChatTagIds(firstId: Int) {
    val ids: Map<String, Int> = ChatTags.all.withIndex().associate { (i, t) -> t to firstId + i }
    val text: Map<Int, String> = ids.entries.associate { it.value to it.key }
    val splitter: SpecialSplitter = SpecialSplitter(ids)
}

/**
 * Splits text around occurrences of special tokens, so a tokenizer encodes the pieces between and
 * maps each token to its id.
 */
public class SpecialSplitter(private val ids: Map<String, Int>) {
    // Longest first, so that a token that is a prefix of another never wins.
    private val tokens = ids.keys.sortedByDescending { it.length }
    private val starts = tokens.map { it[0] }.toSet()

    /**
     * Calls [text] for each run of ordinary text and [special] for each special token, in order.
     */
    public inline fun split(input: String, text: (String) -> Unit, special: (Int) -> Unit) {
        var from = 0
        var i = 0
        while (i < input.length) {
            val match = matchAt(input, i)
            if (match != null) {
                if (i > from) text(input.substring(from, i))
                special(match.second)
                i += match.first
                from = i
            } else {
                i++
            }
        }
        if (from < input.length) text(input.substring(from))
    }

    /** (length, id) of the special token starting at [i], if any. */
    public fun matchAt(input: String, i: Int): Pair<Int, Int>? {
        if (input[i] !in starts) return null
        for (t in tokens) if (input.startsWith(t, i)) return t.length to ids.getValue(t)
        return null
    }
}
