package looplab.curriculum.text.bpe

import java.util.regex.Pattern

/**
 * GPT-2's byte-level conventions, as Hugging Face's `ByteLevel` pre-tokenizer applies them: text is
 * cut into pieces by GPT-2's regex, and every byte is written as a printable character so that a
 * vocabulary of byte strings can be stored as JSON text.
 */
public object ByteLevel {
    // HF's oniguruma treats \s and \p{..} as Unicode classes; Java needs UNICODE_CHARACTER_CLASS
    // for \s to agree.
    private val pieces: Pattern =
        Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS,
        )

    /** Byte value → the character GPT-2 writes it as. */
    private val byteToChar: CharArray =
        CharArray(256).also { table ->
            val printable = ('!'.code..'~'.code) + ('¡'.code..'¬'.code) + ('®'.code..'ÿ'.code)
            var next = 256
            for (b in 0 until 256) table[b] = if (b in printable) b.toChar() else (next++).toChar()
        }

    /** The pre-tokenizer's pieces of [text], in order. */
    public inline fun split(text: String, each: (String) -> Unit) {
        val m = matcher(text)
        while (m.find()) each(text.substring(m.start(), m.end()))
    }

    public fun matcher(text: String): java.util.regex.Matcher = pieces.matcher(text)

    /** [bytes] in GPT-2's printable form. */
    public fun encode(bytes: ByteArray): String =
        String(CharArray(bytes.size) { byteToChar[bytes[it].toInt() and 0xFF] })
}
