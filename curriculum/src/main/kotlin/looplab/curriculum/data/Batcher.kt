package looplab.curriculum.data

import looplab.curriculum.tasks.Example
import looplab.curriculum.text.Tokenizer
import looplab.dsl.LossScope

/** Encodes examples as `BOS prompt answer EOS` and pads them into a [TokenBatch]. */
public class Batcher(
    private val tokenizer: Tokenizer,
    private val scope: LossScope,
    private val padMultiple: Int = 8,
) {
    /** The ids of [example] and the index of its first answer token. */
    public fun encode(example: Example): Pair<IntArray, Int> {
        val prompt = tokenizer.encode(example.prompt)
        val answer = tokenizer.encode(example.answer)
        return (intArrayOf(tokenizer.bos) + prompt + answer + intArrayOf(tokenizer.eos)) to
            (1 + prompt.size)
    }

    /**
     * Pads to the longest example rounded up to [padMultiple] (fewer distinct shapes, so fewer
     * allocations and, for a compiled backend, fewer traces).
     */
    public fun batch(examples: List<Example>): TokenBatch {
        val encoded = examples.map { encode(it) }
        val longest = encoded.maxOf { it.first.size } - 1
        val length = (longest + padMultiple - 1) / padMultiple * padMultiple
        val inputs = IntArray(examples.size * length) { tokenizer.pad }
        val targets = IntArray(examples.size * length) { tokenizer.pad }
        val mask = FloatArray(examples.size * length)
        var tokens = 0
        encoded.forEachIndexed { row, (ids, answerStart) ->
            for (t in 0 until ids.size - 1) {
                inputs[row * length + t] = ids[t]
                targets[row * length + t] = ids[t + 1]
                // Target t is token t + 1: it is part of the answer (or the closing EOS) from
                // answerStart on.
                val carriesLoss = scope == LossScope.All || t + 1 >= answerStart
                if (carriesLoss) mask[row * length + t] = 1f
            }
            tokens += ids.size - 1
        }
        return TokenBatch(inputs, targets, mask, examples.size, length, tokens)
    }
}
