package looplab.curriculum.text

/**
 * One token per printable ASCII character (space to `~`), after the three special tokens: the
 * tokenizer of the algorithmic tasks, whose digits must not be merged into multi-digit tokens.
 */
public object CharTokenizer : Tokenizer {
    private const val FIRST = ' '
    private const val LAST = '~'
    private const val SPECIALS = 3

    override val pad: Int = 0
    override val bos: Int = 1
    override val eos: Int = 2
    override val vocabSize: Int = SPECIALS + (LAST - FIRST + 1)

    override fun encode(text: String): IntArray =
        IntArray(text.length) { i ->
            val c = text[i]
            if (c < FIRST || c > LAST) {
                throw UnencodableTextException(
                    "character ${describe(c)} at index $i is not printable ASCII, which the character tokenizer covers"
                )
            }
            SPECIALS + (c - FIRST)
        }

    override fun decode(ids: IntArray): String = buildString {
        for (id in ids) if (id >= SPECIALS && id < vocabSize) append(FIRST + (id - SPECIALS))
    }

    private fun describe(c: Char): String =
        "U+%04X".format(c.code) + if (c.isISOControl()) "" else " '$c'"
}
