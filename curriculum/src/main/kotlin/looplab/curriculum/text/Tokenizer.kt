package looplab.curriculum.text

import looplab.dsl.UserFacingError

/**
 * Turns text into token ids and back. [pad], [bos] and [eos] say which ids are padding, beginning
 * and end of sequence (0, 1, 2 for looplab's own tokenizers; whatever a pretrained one uses).
 */
public interface Tokenizer {
    public val vocabSize: Int
    public val pad: Int
    public val bos: Int
    public val eos: Int

    public fun encode(text: String): IntArray

    /** Text of [ids]; padding, BOS and EOS are dropped. */
    public fun decode(ids: IntArray): String

    /**
     * The id of a special token such as `<|think|>`, or null if this tokenizer has no such single
     * token.
     */
    public fun specialId(token: String): Int? = null
}

/**
 * A tokenizer file (tokenizer.json) that cannot be used; the message names the file and the
 * problem.
 */
public class TokenizerLoadException(message: String, cause: Throwable? = null) :
    IllegalArgumentException(message, cause), UserFacingError

/**
 * Thrown for text a tokenizer cannot represent; the message names the character and where it is.
 */
public class UnencodableTextException(message: String) : IllegalArgumentException(message)
