package looplab.pipelines.eval

import java.io.ByteArrayOutputStream
import java.util.zip.Deflater
import kotlin.math.exp
import kotlin.math.ln
import kotlinx.serialization.Serializable
import looplab.curriculum.text.Tokenizer
import looplab.models.LanguageModel
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.eager.array
import org.tukaani.xz.LZMA2Options
import org.tukaani.xz.XZOutputStream

/**
 * One window of a sliding-window evaluation: inputs are tokens `[start, start + length)`, targets
 * the tokens one further on, and only positions from [firstScored] on count.
 */
public data class ScoredWindow(val start: Int, val length: Int, val firstScored: Int) {
    /** Targets this window scores: stream indices `start + firstScored + 1 .. start + length`. */
    val scoredTargets: IntRange
        get() = (start + firstScored + 1)..(start + length)
}

/** Where the windows go. */
public object SlidingWindows {
    /**
     * Windows over a stream of [tokens] tokens, whose targets are tokens 1 until [tokens]. The
     * first window scores its [window] targets; each next one moves on by [stride] targets, ends at
     * the last target it scores and reaches [window] tokens back from there, so every target is
     * scored exactly once with the most context the window allows (at least `window − stride`
     * tokens once past the start). `stride == window` gives consecutive non-overlapping windows.
     */
    @JvmStatic
    public fun plan(tokens: Int, window: Int, stride: Int): List<ScoredWindow> {
        require(window >= 1 && stride in 1..window) {
            "sliding window: need 1 ≤ stride ≤ window, was stride $stride, window $window"
        }
        val last = tokens - 1
        if (last < 1) return emptyList()
        val windows = mutableListOf<ScoredWindow>()
        var scored = 0
        while (scored < last) {
            val end = minOf(if (scored == 0) window else scored + stride, last)
            val start = maxOf(0, end - window)
            windows += ScoredWindow(start, end - start, scored - start)
            scored = end
        }
        return windows
    }
}

/** Language-modelling quality of one text, with compressors on the very same bytes beside it. */
@Serializable
public data class SlidingWindowScore(
    val window: Int,
    val stride: Int,
    /** Targets scored (each once). */
    val tokens: Long,
    /** UTF-8 bytes of the scored text (special tokens count none). */
    val bytes: Long,
    /** Mean cross-entropy per token, in nats (every token weighs the same). */
    val loss: Double,
    val perplexity: Double,
    /** Total bits over total bytes: `loss / ln 2 × tokens / bytes`. */
    val bitsPerByte: Double,
    val gzipBitsPerByte: Double,
    val xzBitsPerByte: Double,
)

/**
 * Perplexity and bits per byte of a token stream in sliding windows ([SlidingWindows.plan]): total
 * nats over every scored token, and bits per byte over the UTF-8 bytes of the scored tokens' text,
 * as parameter golf counts them (its bytes per token summed over the tokens scored).
 */
public class SlidingWindowEvaluator(
    private val model: LanguageModel,
    private val store: ParameterStore,
    private val backend: EagerBackend,
    private val tokenizer: Tokenizer,
    private val rows: Int = 8,
) {
    /** Scores the first [maxTokens] targets of [stream] (all of it when shorter). */
    public fun evaluate(
        stream: IntArray,
        window: Int,
        stride: Int,
        maxTokens: Int = Int.MAX_VALUE,
    ): SlidingWindowScore {
        val used =
            stream.copyOf(
                minOf(
                    stream.size,
                    maxTokens.toLong().plus(1).coerceAtMost(Int.MAX_VALUE.toLong()).toInt(),
                )
            )
        val windows = SlidingWindows.plan(used.size, window, stride)
        require(windows.isNotEmpty()) {
            "sliding window: the text has ${stream.size} token(s), too few to score"
        }
        var nats = 0.0
        var tokens = 0L
        windows
            .groupBy { it.length }
            .forEach { (length, sameLength) ->
                sameLength.chunked(rows).forEach { chunk ->
                    val inputs = IntArray(chunk.size * length)
                    val targets = IntArray(chunk.size * length)
                    val mask = FloatArray(chunk.size * length)
                    var count = 0
                    chunk.forEachIndexed { r, w ->
                        used.copyInto(inputs, r * length, w.start, w.start + length)
                        used.copyInto(targets, r * length, w.start + 1, w.start + length + 1)
                        for (p in w.firstScored until length) mask[r * length + p] = 1f
                        count += length - w.firstScored
                    }
                    val mean =
                        backend.scoped(store.values) { ops, _ ->
                            val logits =
                                model.logits(ops, store, ops.tokens(inputs, chunk.size, length))
                            ops.crossEntropy(
                                    logits,
                                    ops.tokens(targets, chunk.size, length),
                                    ops.floats(mask, listOf(chunk.size, length)),
                                )
                                .array
                                .getFloat()
                                .toDouble()
                        }
                    nats += mean * count
                    tokens += count
                }
            }
        val text = tokenizer.decode(used.copyOfRange(1, used.size)).encodeToByteArray()
        require(text.isNotEmpty()) {
            "sliding window: the scored tokens decode to no text, so bits per byte is undefined"
        }
        val loss = nats / tokens
        return SlidingWindowScore(
            window,
            stride,
            tokens,
            text.size.toLong(),
            loss,
            exp(loss),
            nats / ln(2.0) / text.size,
            Compressors.gzipBits(text) / text.size,
            Compressors.xzBits(text) / text.size,
        )
    }
}

/** Compressed sizes in bits: the baselines a model's bits per byte should beat. */
public object Compressors {
    /** gzip -9: deflate's stream plus gzip's 18 bytes of header and trailer. */
    @JvmStatic
    public fun gzipBits(bytes: ByteArray): Double {
        val deflater = Deflater(Deflater.BEST_COMPRESSION, true)
        deflater.setInput(bytes)
        deflater.finish()
        val buffer = ByteArray(1 shl 16)
        var size = 0L
        while (!deflater.finished()) size += deflater.deflate(buffer)
        deflater.end()
        return 8.0 * (size + 18)
    }

    /**
     * xz -9e, the whole .xz file: preset 9 with the extreme preset's match finder settings (nice
     * length 273, depth 512).
     */
    @JvmStatic
    public fun xzBits(bytes: ByteArray): Double {
        val out = ByteArrayOutputStream()
        val options =
            LZMA2Options(LZMA2Options.PRESET_MAX).apply {
                niceLen = LZMA2Options.NICE_LEN_MAX
                depthLimit = 512
            }
        XZOutputStream(out, options).use { it.write(bytes) }
        return 8.0 * out.size()
    }
}
