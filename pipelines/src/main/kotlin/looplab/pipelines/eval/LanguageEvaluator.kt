package looplab.pipelines.eval

import kotlin.math.exp
import kotlin.math.ln
import looplab.curriculum.language.LanguageBatches
import looplab.curriculum.language.LanguageData
import looplab.models.LanguageModel
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.eager.array
import looplab.pipelines.metrics.LanguageScore
import looplab.pipelines.train.loss

/**
 * Perplexity and bits per byte on the held-out documents, scored in consecutive windows of [length]
 * tokens. Bits per byte divides the nats by the held-out text's bytes per token, so it compares
 * across tokenizers and with gzip/xz.
 */
public class LanguageEvaluator(
    private val model: LanguageModel,
    private val store: ParameterStore,
    private val backend: EagerBackend,
    private val data: LanguageData,
    private val length: Int,
) {
    public fun evaluate(maxTokens: Int): LanguageScore {
        var nats = 0.0
        var tokens = 0L
        for (batch in LanguageBatches.windows(data.validation, length, maxTokens)) {
            val mean =
                backend.scoped(store.values) { ops, _ ->
                    model.loss(ops, store, batch).loss.array.getFloat().toDouble()
                }
            nats += mean * batch.tokens
            tokens += batch.tokens
        }
        val loss = nats / tokens
        return LanguageScore(
            loss,
            exp(loss),
            loss / ln(2.0) / data.validationBytesPerToken,
            tokens,
            data.gzipBitsPerByte,
        )
    }
}
