package looplab.models.decode

import kotlin.math.exp
import kotlin.random.Random

/**
 * Picks the next token of one row from its logits on the host, as [SamplingConfig] says. One
 * sampler per row: its generator is seeded from (seed, row), so a row's tokens depend on nothing
 * but its own logits.
 *
 * A row is one pass over the vocabulary plus a sort of the few candidates top-k or top-p can keep
 * (GRPO samples tens of thousands of tokens per step, each from 50k logits: sorting the whole
 * vocabulary every time made sampling the slowest part of a GRPO step on a GPU).
 */
public class Sampler(private val config: SamplingConfig, row: Int) {
    private val random =
        Random(
            config.seed * 0x9E3779B97F4A7C15uL.toLong() +
                row * 0xBF58476D1CE4E5B9uL.toLong() +
                0x94D049BB133111EBuL.toLong()
        )

    /**
     * The next token from [logits] ([offset] until offset + vocab), given the tokens [seen] so far.
     */
    public fun next(logits: FloatArray, offset: Int, vocab: Int, seen: Collection<Int>): Int {
        val scores = DoubleArray(vocab) { logits[offset + it].toDouble() }
        if (config.repetitionPenalty != 1.0) {
            for (token in seen.toSet()) if (token in 0 until vocab) {
                scores[token] =
                    if (scores[token] > 0) scores[token] / config.repetitionPenalty
                    else scores[token] * config.repetitionPenalty
            }
        }
        val best = firstLargest(scores)
        if (config.greedy) return best
        val top = scores[best]
        val weights = DoubleArray(vocab) { exp((scores[it] - top) / config.temperature) }
        val total = weights.sum()
        val limitK = config.topK in 1 until vocab
        if (!limitK && config.topP >= 1.0) {
            // Any token may come: drawn in id order, nothing to sort (Ops.sampleInOrder draws the
            // same token from the same u on the device).
            var left = uniform() * total
            for (token in 0 until vocab) {
                left -= weights[token]
                if (left < 0) return token
            }
            return best
        }
        // Candidates by decreasing score (ties by id), cut by top-k, then by top-p on their
        // softmax. Only a prefix of that order can survive, so only tokens with a weight above a
        // threshold are sorted: the threshold falls until they surely hold the top k, or the top-p
        // mass (one step further, so that rounding in the running sum cannot cut the nucleus).
        var threshold = 1.0
        var extra = if (limitK) 0 else 1
        var candidates: List<Int>
        while (true) {
            candidates = above(weights, threshold)
            val enough =
                if (limitK) candidates.size >= config.topK
                else candidates.sumOf { weights[it] } >= config.topP * total
            if (threshold == 0.0 || (enough && extra-- == 0)) break
            threshold = if (threshold < 1e-300) 0.0 else threshold / 16
        }
        var order = candidates.sortedWith(compareByDescending<Int> { scores[it] }.thenBy { it })
        if (limitK) order = order.take(config.topK)
        val mass = if (limitK) order.sumOf { weights[it] } else total
        var keep = order.size
        if (config.topP < 1.0) {
            var cumulative = 0.0
            keep =
                (order.indices.firstOrNull { i ->
                    cumulative += weights[order[i]] / mass
                    cumulative >= config.topP
                } ?: order.lastIndex) + 1
        }
        return draw(weights, order.take(keep))
    }

    /**
     * The uniform in [0, 1) the next token is drawn with when [drawsInIdOrder]: a float, so that
     * the device gets it exactly.
     */
    public fun uniform(): Float = random.nextFloat()

    /** A token of [tokens] drawn with probability proportional to its weight. */
    private fun draw(weights: DoubleArray, tokens: List<Int>): Int {
        var left = random.nextDouble() * tokens.sumOf { weights[it] }
        for (token in tokens) {
            left -= weights[token]
            if (left < 0) return token
        }
        return tokens.last()
    }

    public companion object {
        /**
         * Whether [config] samples from the whole tempered softmax (no top-k or top-p cut, no
         * repetition penalty): then one uniform per token decides, and the device can draw it.
         */
        @JvmStatic
        public fun drawsInIdOrder(config: SamplingConfig, vocab: Int): Boolean =
            !config.greedy &&
                config.repetitionPenalty == 1.0 &&
                config.topP >= 1.0 &&
                (config.topK == 0 || config.topK >= vocab)
    }

    private fun above(weights: DoubleArray, threshold: Double): List<Int> {
        val tokens = ArrayList<Int>()
        for (token in weights.indices) if (weights[token] >= threshold) tokens += token
        return tokens
    }

    private fun firstLargest(scores: DoubleArray): Int {
        var best = 0
        for (i in 1 until scores.size) if (scores[i] > scores[best]) best = i
        return best
    }
}
