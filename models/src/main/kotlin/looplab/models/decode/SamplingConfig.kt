package looplab.models.decode

/**
 * How tokens are chosen. `temperature = 0` is greedy decoding (the most likely token, ties to the
 * lowest id). Otherwise logits are divided by the temperature, cut to the [topK] most likely (0: no
 * cut) and to the smallest set whose probability reaches [topP] (1: no cut), and sampled with a
 * generator seeded from ([seed], row): the same seed gives the same tokens, whatever else the batch
 * holds. [repetitionPenalty] (CTRL's; 1: none) divides the positive logits and multiplies the
 * negative ones of every token already in the row's prompt or output. A row stops at any of
 * [stopTokens] (not included in its output) or after [maxNewTokens].
 */
public data class SamplingConfig
@JvmOverloads
constructor(
    val maxNewTokens: Int,
    val temperature: Double = 0.0,
    val topK: Int = 0,
    val topP: Double = 1.0,
    val repetitionPenalty: Double = 1.0,
    val stopTokens: Set<Int> = emptySet(),
    val seed: Long = 0,
) {
    init {
        require(maxNewTokens >= 0) { "maxNewTokens must be ≥ 0, was $maxNewTokens" }
        require(temperature >= 0.0 && temperature.isFinite()) {
            "temperature must be ≥ 0, was $temperature"
        }
        require(topK >= 0) { "topK must be ≥ 0 (0: no cut), was $topK" }
        require(topP > 0.0 && topP <= 1.0) { "topP must be in (0, 1], was $topP" }
        require(repetitionPenalty > 0.0 && repetitionPenalty.isFinite()) {
            "repetitionPenalty must be > 0, was $repetitionPenalty"
        }
    }

    val greedy: Boolean
        get() = temperature == 0.0

    public companion object {
        /** Greedy decoding of up to [maxNewTokens], stopping at [stop]. */
        @JvmStatic
        public fun greedy(maxNewTokens: Int, vararg stop: Int): SamplingConfig =
            SamplingConfig(maxNewTokens, stopTokens = stop.toSet())
    }
}
