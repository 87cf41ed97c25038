package looplab.pipelines.eval

import looplab.models.AdaptiveInference
import looplab.models.LanguageModel
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.eager.array

/**
 * Deterministic decoding: at every step each row takes its most likely next token, until it emits
 * end-of-sequence or has produced [maxNewTokens]. Rows decode together as one batch, so prompts
 * must have equal lengths (the evaluator groups them). Reading the argmax on the host between
 * steps happens here, outside the model, where it is allowed.
 */
public class GreedyDecoder(
    private val model: LanguageModel,
    private val store: ParameterStore,
    private val backend: EagerBackend,
    private val eos: Int,
) : Completer {
    /** The tokens generated after each prompt, without the closing EOS. */
    override fun complete(prompts: List<IntArray>, maxNewTokens: Int): List<IntArray> {
        val rows = prompts.size
        val promptLength = prompts.first().size
        require(prompts.all { it.size == promptLength }) { "prompts of one batch must have equal lengths" }
        val generated = List(rows) { mutableListOf<Int>() }
        val finished = BooleanArray(rows)
        var sequences = prompts.map { it.copyOf() }
        for (step in 0 until maxNewTokens) {
            val length = promptLength + step
            val flat = IntArray(rows * length) { sequences[it / length][it % length] }
            val next = backend.scoped(store.values) { ops, _ ->
                val tokens = ops.tokens(flat, rows, length)
                // Models that can stop early (ACT) read a scalar between loops here, outside any traced program.
                val logits = (model as? AdaptiveInference)?.adaptiveLogits(ops, store, tokens) { it.array.getFloat().toDouble() }
                    ?: model.logits(ops, store, tokens)
                ops.slice(logits, 1, length - 1, length).array.argMax(-1).toLongArray()
            }
            for (row in 0 until rows) {
                if (finished[row]) continue
                val token = next[row].toInt()
                if (token == eos) finished[row] = true else generated[row] += token
            }
            if (finished.all { it }) break
            sequences = sequences.mapIndexed { row, seq -> seq + next[row].toInt() }
        }
        return generated.map { it.toIntArray() }
    }
}
