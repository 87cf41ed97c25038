package looplab.curriculum.language

import java.io.ByteArrayOutputStream
import java.util.zip.Deflater
import kotlin.random.Random
import looplab.curriculum.data.Seeds
import looplab.curriculum.data.TokenBatch
import looplab.curriculum.text.Tokenizer
import looplab.dsl.LanguageDataSpec

/**
 * A corpus split by document and tokenized: the training documents as one token stream (EOS after
 * each document) and the held-out documents as another. Document `i` is held out when `i %
 * validationEvery == validationEvery - 1`: fixed, recorded in the plan, and independent of the
 * seed, so every run of an experiment scores the same text.
 */
public class LanguageData(
    public val corpus: String,
    public val documents: Int,
    public val validationDocuments: Int,
    public val train: IntArray,
    public val validation: IntArray,
    public val trainBytes: Long,
    public val validationBytes: Long,
    /**
     * gzip -9 of the held-out text, in bits per byte: the baseline a model's bits per byte should
     * beat.
     */
    public val gzipBitsPerByte: Double,
) {
    /** Held-out UTF-8 bytes per held-out token: turns nats per token into bits per byte. */
    public val validationBytesPerToken: Double
        get() = validationBytes.toDouble() / validation.size

    public companion object {
        private val cache =
            java.util.concurrent.ConcurrentHashMap<
                Pair<LanguageDataSpec, Tokenizer>,
                LanguageData,
            >()

        /**
         * [prepare], once per process for each (spec, tokenizer): planning and running share the
         * work.
         */
        public fun cached(spec: LanguageDataSpec, tokenizer: Tokenizer): LanguageData =
            cache[spec to tokenizer]
                ?: prepare(spec, tokenizer).also { cache[spec to tokenizer] = it }

        public fun prepare(spec: LanguageDataSpec, tokenizer: Tokenizer): LanguageData {
            val docs = CorpusLoader.load(spec.corpus)
            val every = spec.validationEvery
            if (docs.documents.size < every) {
                throw CorpusException(
                    "${docs.name}: ${docs.documents.size} document(s), too few to hold out one in $every by document"
                )
            }
            val (heldIndexed, keptIndexed) =
                docs.documents.withIndex().partition { spec.isHeldOut(it.index) }
            val held = heldIndexed.map { it.value }
            val kept = keptIndexed.map { it.value }
            val heldText = held.joinToString("\n\n").encodeToByteArray()
            return LanguageData(
                corpus = docs.name,
                documents = docs.documents.size,
                validationDocuments = held.size,
                train = stream(kept, tokenizer),
                validation = stream(held, tokenizer),
                trainBytes = kept.sumOf { it.encodeToByteArray().size.toLong() },
                // The held-out text is already encoded, joined by 2-byte separators.
                validationBytes = heldText.size - 2L * (held.size - 1),
                gzipBitsPerByte = 8.0 * gzip(heldText) / heldText.size,
            )
        }

        private fun stream(docs: List<String>, tokenizer: Tokenizer): IntArray {
            val parts = docs.parallelStream().map { tokenizer.encode(it) }.toList()
            val out = IntArray(parts.sumOf { it.size + 1 })
            var at = 0
            for (p in parts) {
                p.copyInto(out, at)
                at += p.size
                out[at++] = tokenizer.eos
            }
            return out
        }

        private fun gzip(bytes: ByteArray): Int {
            val deflater = Deflater(Deflater.BEST_COMPRESSION, true)
            deflater.setInput(bytes)
            deflater.finish()
            val out = ByteArrayOutputStream()
            val buffer = ByteArray(1 shl 16)
            while (!deflater.finished()) out.write(buffer, 0, deflater.deflate(buffer))
            deflater.end()
            return out.size() + 18 // gzip's header and trailer
        }
    }
}

/**
 * Packed language batches: each row is a window of `length + 1` consecutive training tokens at an
 * offset drawn from (seed, index, row), so batch `i` is a pure function of `i` and the length.
 * Every target carries loss; windows are full, so there is no padding.
 */
public class LanguageBatches(
    private val tokens: IntArray,
    private val batchSize: Int,
    private val seed: Long,
) {
    public fun batch(index: Long, length: Int): TokenBatch {
        require(tokens.size > length + 1) {
            "the training text has ${tokens.size} tokens, fewer than one sequence of $length"
        }
        val inputs = IntArray(batchSize * length)
        val targets = IntArray(batchSize * length)
        for (row in 0 until batchSize) {
            val start =
                Random(Seeds.mix(seed, LANGUAGE_STREAM, index, row.toLong()))
                    .nextInt(tokens.size - length - 1)
            tokens.copyInto(inputs, row * length, start, start + length)
            tokens.copyInto(targets, row * length, start + 1, start + length + 1)
        }
        return TokenBatch(
            inputs,
            targets,
            FloatArray(batchSize * length) { 1f },
            batchSize,
            length,
            batchSize * length,
        )
    }

    public companion object {
        private const val LANGUAGE_STREAM = 0x4C414E47L

        /**
         * Consecutive non-overlapping windows of [stream] for scoring, at most [maxTokens] targets,
         * [rows] windows per batch.
         */
        public fun windows(
            stream: IntArray,
            length: Int,
            maxTokens: Int,
            rows: Int = 8,
        ): List<TokenBatch> {
            val count = minOf((stream.size - 1) / length, maxOf(1, maxTokens / length))
            return (0 until count).chunked(rows).map { chunk ->
                val inputs = IntArray(chunk.size * length)
                val targets = IntArray(chunk.size * length)
                chunk.forEachIndexed { r, w ->
                    stream.copyInto(inputs, r * length, w * length, w * length + length)
                    stream.copyInto(targets, r * length, w * length + 1, w * length + length + 1)
                }
                TokenBatch(
                    inputs,
                    targets,
                    FloatArray(chunk.size * length) { 1f },
                    chunk.size,
                    length,
                    chunk.size * length,
                )
            }
        }
    }
}
