package looplab.pipelines.generate

import looplab.curriculum.text.Tokenizer

/**
 * Turns a row's tokens, as they arrive, into the text they add. A byte-level token may end in the
 * middle of a UTF-8 character, so the whole output is decoded each time and only a stable prefix
 * (no trailing replacement character) is released.
 */
public class TextStream(private val tokenizer: Tokenizer, private val emit: (String) -> Unit) {
    private val tokens = mutableListOf<Int>()
    private var released = 0

    public fun add(token: Int) {
        tokens += token
        val text = tokenizer.decode(tokens.toIntArray())
        val stable = text.trimEnd('\uFFFD')
        if (stable.length > released) {
            emit(stable.substring(released))
            released = stable.length
        }
    }

    /** Releases whatever is left (an incomplete character included). */
    public fun finish() {
        val text = tokenizer.decode(tokens.toIntArray())
        if (text.length > released) emit(text.substring(released))
        released = text.length
    }
}
