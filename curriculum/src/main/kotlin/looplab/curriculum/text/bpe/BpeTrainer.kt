package looplab.curriculum.text.bpe

import java.util.PriorityQueue
import looplab.curriculum.text.ChatTags
import looplab.curriculum.text.SpecialSplitter

/**
 * Learns a byte-level BPE: pre-tokenize with GPT-2's regex, count the pieces, then repeatedly merge
 * the most frequent adjacent pair (ties: the smaller ids first, so training is deterministic). Pair
 * counts are updated incrementally, touching only the words that contain the merged pair.
 */
public object BpeTrainer {
    /**
     * A byte-level BPE of [vocabSize] tokens (specials and bytes included) trained on [documents].
     */
    public fun train(documents: Sequence<String>, vocabSize: Int): BpeTokenizer {
        require(vocabSize > BpeTokenizer.FIRST_MERGE) {
            "vocabulary size $vocabSize leaves no room for merges after ${BpeTokenizer.FIRST_MERGE} specials and bytes"
        }
        val counts = HashMap<String, Int>()
        // Tags are single tokens already, so they are never learned as merges; the text around them
        // is
        // split exactly as the encoder splits it, so merges are learned from the pieces it will
        // see.
        val tags = SpecialSplitter(ChatTags.all.associateWith { 0 })
        for (doc in documents) {
            tags.split(
                doc,
                { part -> ByteLevel.split(part) { counts.merge(it, 1, Int::plus) } },
                {},
            )
        }
        val words =
            counts.keys
                .map { w ->
                    w.encodeToByteArray().let { b ->
                        IntArray(b.size) { BpeTokenizer.FIRST_BYTE + (b[it].toInt() and 0xFF) }
                    }
                }
                .toTypedArray()
        val sizes = IntArray(words.size) { words[it].size }
        val freq = counts.values.toIntArray()
        val pairCount = HashMap<Long, Long>()
        val where = HashMap<Long, MutableSet<Int>>()
        for (w in words.indices) for (i in 0 until sizes[w] - 1) {
            val k = BpeTokenizer.key(words[w][i], words[w][i + 1])
            pairCount.merge(k, freq[w].toLong(), Long::plus)
            where.getOrPut(k) { HashSet() } += w
        }
        val queue =
            PriorityQueue<LongArray>(compareByDescending<LongArray> { it[0] }.thenBy { it[1] })
        pairCount.forEach { (k, c) -> queue += longArrayOf(c, k) }

        val merges = ArrayList<Pair<Int, Int>>()
        val known =
            HashSet<
                String
            >() // byte strings of the tokens made so far: a second path to the same string is
        // skipped
        val tokenBytes = ArrayList<ByteArray>()
        fun bytesOf(id: Int): ByteArray =
            if (id < BpeTokenizer.FIRST_MERGE) byteArrayOf((id - BpeTokenizer.FIRST_BYTE).toByte())
            else tokenBytes[id - BpeTokenizer.FIRST_MERGE]
        while (BpeTokenizer.FIRST_MERGE + merges.size < vocabSize) {
            val top = queue.poll() ?: break
            val k = top[1]
            if (pairCount[k] != top[0] || top[0] <= 0L) continue // stale entry
            val a = (k ushr 32).toInt()
            val b = k.toInt()
            val made = bytesOf(a) + bytesOf(b)
            if (!known.add(String(made, Charsets.ISO_8859_1))) {
                pairCount[k] = 0
                continue
            }
            val id = BpeTokenizer.FIRST_MERGE + merges.size
            merges += a to b
            tokenBytes += made
            val changed = HashSet<Long>()
            for (w in where[k].orEmpty().toList()) {
                val symbols = words[w]
                val n = sizes[w]
                var has = false
                for (i in 0 until n - 1) if (symbols[i] == a && symbols[i + 1] == b) {
                    has = true
                    break
                }
                if (!has) continue
                val f = freq[w].toLong()
                for (i in 0 until n - 1) {
                    val p = BpeTokenizer.key(symbols[i], symbols[i + 1])
                    pairCount.merge(p, -f, Long::plus)
                    changed += p
                }
                var out = 0
                var i = 0
                while (i < n) {
                    if (i < n - 1 && symbols[i] == a && symbols[i + 1] == b) {
                        symbols[out++] = id
                        i += 2
                    } else symbols[out++] = symbols[i++]
                }
                sizes[w] = out
                for (j in 0 until out - 1) {
                    val p = BpeTokenizer.key(symbols[j], symbols[j + 1])
                    pairCount.merge(p, f, Long::plus)
                    changed += p
                    where.getOrPut(p) { HashSet() } += w
                }
            }
            for (p in changed) {
                val c = pairCount[p] ?: 0L
                if (c > 0) queue += longArrayOf(c, p)
            }
        }
        return BpeTokenizer(merges)
    }
}
