package looplab.models.decode

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.exp
import kotlin.random.Random

/**
 * The sampler against the plain definition (every token sorted by score, cut by top-k, then by
 * top-p, a draw along that order with the same random numbers), and its distributions against the
 * softmax.
 */
class SamplerSpec :
    FunSpec({
        /** The definition, written the slow and obvious way. */
        fun reference(config: SamplingConfig, row: Int, logits: FloatArray): Int {
            val random =
                Random(
                    config.seed * 0x9E3779B97F4A7C15uL.toLong() +
                        row * 0xBF58476D1CE4E5B9uL.toLong() +
                        0x94D049BB133111EBuL.toLong()
                )
            var order =
                logits.indices.sortedWith(compareByDescending<Int> { logits[it] }.thenBy { it })
            if (config.topK in 1 until logits.size) order = order.take(config.topK)
            val top = logits[order.first()].toDouble()
            val weights = order.map { exp((logits[it] - top) / config.temperature) }
            var keep = order.size
            if (config.topP < 1.0) {
                var mass = 0.0
                keep =
                    (order.indices.firstOrNull { i ->
                        mass += weights[i] / weights.sum()
                        mass >= config.topP
                    } ?: order.lastIndex) + 1
            }
            var draw = random.nextDouble() * weights.take(keep).sum()
            for (i in 0 until keep) {
                draw -= weights[i]
                if (draw < 0) return order[i]
            }
            return order[keep - 1]
        }

        test("top-k and top-p pick the token the definition picks, for peaked and flat logits") {
            val random = Random(3)
            var compared = 0
            for (case in 0 until 300) {
                val vocab = 50 + random.nextInt(2000)
                val spread = listOf(0.5, 3.0, 12.0)[case % 3]
                val logits =
                    FloatArray(vocab) { (random.nextDouble() * 2 - 1).toFloat() * spread.toFloat() }
                val config =
                    SamplingConfig(
                        maxNewTokens = 1,
                        temperature = listOf(0.7, 1.0, 1.5)[case % 3],
                        topK = listOf(0, 1, 5, 40)[case % 4],
                        topP = listOf(1.0, 0.9, 0.5, 0.99)[(case / 4) % 4],
                        seed = case.toLong(),
                    )
                if (config.topK == 0 && config.topP >= 1.0) continue
                Sampler(config, case % 7).next(logits, 0, vocab, emptyList()) shouldBe
                    reference(config, case % 7, logits)
                compared++
            }
            compared shouldBe 281
        }

        test(
            "plain sampling follows the softmax at the temperature, and greedy takes the first maximum"
        ) {
            val logits = floatArrayOf(1f, 2f, 0.5f, 2f, -1f)
            val temperature = 0.8
            val expected = logits.map { exp(it / temperature) }.let { w -> w.map { it / w.sum() } }
            val sampler =
                Sampler(SamplingConfig(maxNewTokens = 1, temperature = temperature, seed = 5), 0)
            val draws = 200_000
            val counts = IntArray(logits.size)
            repeat(draws) { counts[sampler.next(logits, 0, logits.size, emptyList())]++ }
            // A binomial share's standard deviation is below 0.0012 here; 0.005 is four of them.
            for (token in logits.indices) abs(
                counts[token].toDouble() / draws - expected[token]
            ) shouldBeLessThan 0.005
            Sampler(SamplingConfig(maxNewTokens = 1), 0)
                .next(logits, 0, logits.size, emptyList()) shouldBe 1
        }
    })
