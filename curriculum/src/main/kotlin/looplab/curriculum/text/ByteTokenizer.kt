package looplab.curriculum.text

import java.io.ByteArrayOutputStream

/**
 * One token per UTF-8 byte: PAD, BOS and EOS (0, 1, 2), the 256 bytes (3–258), then the chat tags
 * as single tokens. Encodes any text, needs no training, and makes bits per byte the loss in bits.
 */
public object ByteTokenizer : Tokenizer {
    private const val FIRST_BYTE = 3
    private val tags = ChatTagIds(FIRST_BYTE + 256)

    override val pad: Int = 0
    override val bos: Int = 1
    override val eos: Int = 2
    override val vocabSize: Int = FIRST_BYTE + 256 + ChatTags.all.size

    override fun encode(text: String): IntArray {
        val out = ArrayList<Int>(text.length)
        tags.splitter.split(
            text,
            { part ->
                for (b in part.encodeToByteArray()) out += FIRST_BYTE + (b.toInt() and 0xFF)
            },
            { out += it },
        )
        return out.toIntArray()
    }

    override fun decode(ids: IntArray): String {
        val sb = StringBuilder()
        val bytes = ByteArrayOutputStream()
        fun flush() {
            if (bytes.size() > 0) {
                sb.append(bytes.toByteArray().decodeToString())
                bytes.reset()
            }
        }
        for (id in ids) when {
            id in FIRST_BYTE until FIRST_BYTE + 256 -> bytes.write(id - FIRST_BYTE)
            id in tags.text -> {
                flush()
                sb.append(tags.text.getValue(id))
            }
        }
        flush()
        return sb.toString()
    }

    override fun specialId(token: String): Int? = tags.ids[token]
}
