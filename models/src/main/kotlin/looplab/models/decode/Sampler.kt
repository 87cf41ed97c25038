package looplab.models.decode

import kotlin.math.exp
import kotlin.random.Random

/**
 * Picks the next token of one row from its logits on the host, as [SamplingConfig] says. One
 * sampler per row: its generator is seeded from (seed, row), so a row's tokens depend on nothing
 * but its own logits.
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
        if (config.greedy) return scores.indices.maxBy { scores[it] }
        // Candidates by decreasing score (ties by id), cut by top-k, then by top-p on their
        // softmax.
        var order = scores.indices.sortedWith(compareByDescending<Int> { scores[it] }.thenBy { it })
        if (config.topK in 1 until vocab) order = order.take(config.topK)
        val top = scores[order.first()]
        val weights = order.map { exp((scores[it] - top) / config.temperature) }
        val total = weights.sum()
        var keep = order.size
        if (config.topP < 1.0) {
            var mass = 0.0
            keep =
                (order.indices.firstOrNull { i ->
                    mass += weights[i] / total
                    mass >= config.topP
                } ?: order.lastIndex) + 1
        }
        val kept = weights.take(keep)
        var draw = random.nextDouble() * kept.sum()
        for (i in 0 until keep) {
            draw -= kept[i]
            if (draw < 0) return order[i]
        }
        return order[keep - 1]
    }
}
