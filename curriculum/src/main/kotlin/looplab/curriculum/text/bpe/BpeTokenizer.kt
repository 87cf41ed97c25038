package looplab.curriculum.text.bpe

import java.io.ByteArrayOutputStream
import java.util.concurrent.ConcurrentHashMap
import looplab.curriculum.text.ChatTags
import looplab.curriculum.text.SpecialSplitter
import looplab.curriculum.text.Tokenizer

/**
 * looplab's own byte-level BPE. Ids: PAD, BOS, EOS (0–2), the chat tags (3–9), the 256 bytes
 * (10–265), then one token per merge in the order they were learned. Encoding follows Hugging
 * Face's byte-level BPE exactly (GPT-2 pre-tokenization, then within each piece the pair of lowest
 * merge rank is merged first), so [TokenizerJson] can write a tokenizer.json that DJL's HF
 * tokenizers encodes identically.
 */
public class BpeTokenizer(
    /**
     * The merges in the order learned: merge k makes token `FIRST_MERGE + k` from the pair's two
     * ids.
     */
    public val merges: List<Pair<Int, Int>>
) : Tokenizer {
    private val rank =
        HashMap<Long, Int>(merges.size * 2).also { map ->
            merges.forEachIndexed { k, (a, b) -> map[key(a, b)] = k }
        }
    private val bytesOf: Array<ByteArray> = buildTokenBytes(merges)
    private val tagIds = SPECIALS.withIndex().drop(3).associate { (i, t) -> t to i }
    private val splitter = SpecialSplitter(tagIds)
    private val cache = ConcurrentHashMap<String, IntArray>()

    override val pad: Int = 0
    override val bos: Int = 1
    override val eos: Int = 2
    override val vocabSize: Int = FIRST_MERGE + merges.size

    /** The byte string token [id] stands for (empty for PAD/BOS/EOS; the tag's text for a tag). */
    public fun bytes(id: Int): ByteArray = bytesOf[id]

    override fun encode(text: String): IntArray {
        val out = ArrayList<Int>(text.length / 3 + 1)
        splitter.split(
            text,
            { part -> ByteLevel.split(part) { piece -> for (id in encodePiece(piece)) out += id } },
            { out += it },
        )
        return out.toIntArray()
    }

    /**
     * One pre-tokenizer piece: its bytes, then merges by rank. Pieces repeat a lot in text, so
     * results are cached.
     */
    private fun encodePiece(piece: String): IntArray {
        cache[piece]?.let {
            return it
        }
        val bytes = piece.encodeToByteArray()
        var symbols = IntArray(bytes.size) { FIRST_BYTE + (bytes[it].toInt() and 0xFF) }
        var size = symbols.size
        while (size > 1) {
            var best = Int.MAX_VALUE
            for (i in 0 until size - 1) {
                val r = rank[key(symbols[i], symbols[i + 1])] ?: continue
                if (r < best) best = r
            }
            if (best == Int.MAX_VALUE) break
            val (a, b) = merges[best]
            val merged = FIRST_MERGE + best
            var w = 0
            var i = 0
            while (i < size) {
                if (i < size - 1 && symbols[i] == a && symbols[i + 1] == b) {
                    symbols[w++] = merged
                    i += 2
                } else symbols[w++] = symbols[i++]
            }
            size = w
        }
        if (size != symbols.size) symbols = symbols.copyOf(size)
        if (cache.size < CACHE_LIMIT) cache[piece] = symbols
        return symbols
    }

    override fun decode(ids: IntArray): String {
        val out = ByteArrayOutputStream()
        for (id in ids) if (id > 2 && id < vocabSize) out.write(bytesOf[id])
        return out.toByteArray().decodeToString()
    }

    override fun specialId(token: String): Int? = tagIds[token]

    public companion object {
        /** PAD, BOS, EOS, then the chat tags: the first ids of every looplab BPE. */
        public val SPECIALS: List<String> =
            listOf("<|padding|>", "<|begin_of_text|>", "<|end_of_text|>") + ChatTags.all
        public val FIRST_BYTE: Int = SPECIALS.size
        public val FIRST_MERGE: Int = FIRST_BYTE + 256
        private const val CACHE_LIMIT = 1 shl 18

        internal fun key(a: Int, b: Int): Long = (a.toLong() shl 32) or (b.toLong() and 0xFFFFFFFFL)

        private fun buildTokenBytes(merges: List<Pair<Int, Int>>): Array<ByteArray> {
            val table = ArrayList<ByteArray>(FIRST_MERGE + merges.size)
            table += List(3) { ByteArray(0) }
            table += ChatTags.all.map { it.encodeToByteArray() }
            for (b in 0 until 256) table += byteArrayOf(b.toByte())
            for ((a, b) in merges) {
                require(a < table.size && b < table.size) {
                    "merge ($a, $b) refers to a token not yet made"
                }
                table += table[a] + table[b]
            }
            return table.toTypedArray()
        }
    }
}
