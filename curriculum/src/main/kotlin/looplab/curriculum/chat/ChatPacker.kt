package looplab.curriculum.chat

import looplab.curriculum.data.TokenBatch

/**
 * A batch of chat rows for next-token prediction. [segments] ([batch] × [TokenBatch.length])
 * numbers the conversation each input position belongs to within its row (padding gets a number of
 * its own), so attention can be kept inside a conversation; the mask is 1 exactly where the target
 * is a trained token of the same conversation.
 */
public class ChatBatch(public val tokens: TokenBatch, public val segments: IntArray)

/**
 * Lays rendered conversations into rows of [length] input positions (each row holds length + 1
 * tokens, inputs and targets shifted by one). With [packing], whole conversations are placed
 * best-fit (in the order given, each into the fullest row it still fits) so that rows waste little
 * padding; without it, one conversation per row. A conversation is never split across rows.
 */
public class ChatPacker(
    private val length: Int,
    private val pad: Int,
    private val packing: Boolean,
) {
    /** The rows [chats] fill, as (row → conversations in it, in order). */
    public fun rows(chats: List<RenderedChat>): List<List<RenderedChat>> {
        chats.forEach { chat ->
            if (chat.size > length + 1) {
                throw ChatTemplateException(
                    "a conversation of ${chat.size} tokens does not fit a row of ${length + 1} tokens (the context length plus one): raise the context length or shorten the data"
                )
            }
        }
        if (!packing) return chats.map { listOf(it) }
        val rows = mutableListOf<MutableList<RenderedChat>>()
        val used = mutableListOf<Int>()
        for (chat in chats) {
            val best =
                used.indices.filter { used[it] + chat.size <= length + 1 }.maxByOrNull { used[it] }
            if (best == null) {
                rows += mutableListOf(chat)
                used += chat.size
            } else {
                rows[best] += chat
                used[best] += chat.size
            }
        }
        return rows
    }

    /** One batch of the given [rows] (as [rows] makes them). */
    public fun batch(rows: List<List<RenderedChat>>): ChatBatch {
        val n = rows.size
        val inputs = IntArray(n * length) { pad }
        val targets = IntArray(n * length) { pad }
        val mask = FloatArray(n * length)
        val segments = IntArray(n * length)
        var tokens = 0
        rows.forEachIndexed { r, row ->
            val ids = IntArray(length + 1) { pad }
            val trained = BooleanArray(length + 1)
            val segment = IntArray(length + 1) { row.size } // padding: a segment of its own
            var at = 0
            row.forEachIndexed { s, chat ->
                chat.ids.copyInto(ids, at)
                chat.trained.copyInto(trained, at)
                segment.fill(s, at, at + chat.size)
                at += chat.size
            }
            tokens += minOf(at, length)
            for (t in 0 until length) {
                val i = r * length + t
                inputs[i] = ids[t]
                targets[i] = ids[t + 1]
                segments[i] = segment[t]
                // A trained token is never a conversation's first, so its predecessor is in the
                // same conversation.
                mask[i] = if (trained[t + 1] && segment[t + 1] == segment[t]) 1f else 0f
            }
        }
        return ChatBatch(TokenBatch(inputs, targets, mask, n, length, tokens), segments)
    }
}
