package looplab.curriculum.text

/** Turns text into token ids and back. Ids 0, 1 and 2 are padding, beginning and end of sequence. */
public interface Tokenizer {
    public val vocabSize: Int
    public val pad: Int
    public val bos: Int
    public val eos: Int

    public fun encode(text: String): IntArray

    /** Text of [ids]; special tokens are dropped. */
    public fun decode(ids: IntArray): String
}

/** Thrown for text a tokenizer cannot represent; the message names the character and where it is. */
public class UnencodableTextException(message: String) : IllegalArgumentException(message)
