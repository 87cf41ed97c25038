package looplab.pipelines.eval

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import kotlin.math.abs
import kotlin.math.ln
import kotlin.random.Random
import looplab.curriculum.language.LanguageData
import looplab.curriculum.text.CharTokenizer
import looplab.curriculum.text.TiktokenTokenizer
import looplab.dsl.TiktokenEncoding
import looplab.dsl.experiment
import looplab.models.LanguageModel
import looplab.models.Models
import looplab.models.Pass
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.params.ParamRegistry
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

private val backend by lazy { EagerBackend() }

/** A model whose every prediction is uniform over [vocabSize] tokens. */
private class Uniform(override val vocabSize: Int) : LanguageModel {
    override val parameters: ParamRegistry = ParamRegistry()

    override fun logits(ops: Ops, params: Params, tokens: Tensor, pass: Pass): Tensor =
        ops.zeros(tokens.shape + vocabSize)
}

private val text =
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. " +
        "However little known the feelings or views of such a man may be on his first entering a neighbourhood, this truth is so well fixed. "

class SlidingWindowSpec :
    FunSpec({
        test(
            "every target is scored exactly once, with at least window − stride tokens of context past the start"
        ) {
            for (tokens in listOf(2, 5, 64, 65, 100, 257)) for (window in
                listOf(1, 4, 16, 32)) for (stride in
                (1..window).filter {
                    it == 1 || it == window || window % it == 0 || it == window - 1
                }) {
                val windows = SlidingWindows.plan(tokens, window, stride)
                val scored = windows.flatMap { it.scoredTargets.toList() }
                scored shouldBe (1 until tokens).toList()
                for (w in windows) {
                    w.length shouldBe minOf(window, w.start + w.length)
                    (w.start + w.length) shouldBe w.scoredTargets.last
                    // The first target a window scores sees window − stride earlier tokens (or all
                    // there are).
                    (w.firstScored) shouldBeGreaterThanOrEqual
                        minOf(window - stride, w.start + w.firstScored)
                }
            }
        }

        test("stride equal to the window gives consecutive non-overlapping windows") {
            SlidingWindows.plan(13, 4, 4) shouldBe
                listOf(ScoredWindow(0, 4, 0), ScoredWindow(4, 4, 0), ScoredWindow(8, 4, 0))
            // A last, partial stretch is scored with a full window of context, never a target
            // twice.
            SlidingWindows.plan(14, 4, 4) shouldBe
                listOf(
                    ScoredWindow(0, 4, 0),
                    ScoredWindow(4, 4, 0),
                    ScoredWindow(8, 4, 0),
                    ScoredWindow(9, 4, 3),
                )
            SlidingWindows.plan(13, 4, 2).map { it.scoredTargets } shouldBe
                listOf(1..4, 5..6, 7..8, 9..10, 11..12)
        }

        test(
            "at stride = window the score is the non-overlapping evaluation's figure; a smaller stride scores the same tokens, each once"
        ) {
            val spec =
                experiment("w") {
                        model("m") {
                            width = 32
                            heads = 2
                            layers = 2
                            contextLength = 16
                            ffnHidden = 48
                        }
                    }
                    .models
                    .single()
            val model = Models.build(spec, CharTokenizer.vocabSize)
            ParameterStore(model.parameters, backend, seed = 3).use { store ->
                val stream = CharTokenizer.encode(text)
                val window = 16
                val tokens = (stream.size - 1) / window * window
                val data = LanguageData("t", 1, 1, stream, stream, 0, text.length.toLong(), 1.0)
                val reference =
                    LanguageEvaluator(model, store, backend, data, window).evaluate(tokens)
                val sliding =
                    SlidingWindowEvaluator(model, store, backend, CharTokenizer, rows = 3)
                        .evaluate(stream, window, window, tokens)
                sliding.tokens shouldBe reference.tokens
                sliding.loss shouldBe (reference.loss plusOrMinus 1e-5 * reference.loss)
                val overlapping =
                    SlidingWindowEvaluator(model, store, backend, CharTokenizer)
                        .evaluate(stream, window, 4, tokens)
                overlapping.tokens shouldBe tokens.toLong()
                overlapping.bytes shouldBe tokens.toLong()
                overlapping.loss shouldNotBe sliding.loss
            }
        }

        test("a uniform model's bits per byte is log2(vocab) × tokens / bytes") {
            // GPT-2's merges make tokens ≠ bytes (about 4 bytes a token here; é is 2 UTF-8 bytes).
            val tokenizer = TiktokenTokenizer(TiktokenEncoding.R50k)
            val stream = tokenizer.encode("Élise, café, naïve — $text")
            (stream.size * 2 < "Élise, café, naïve — $text".encodeToByteArray().size) shouldBe true
            val model = Uniform(tokenizer.vocabSize)
            ParameterStore(model.parameters, backend, seed = 1).use { store ->
                for (stride in listOf(8, 3)) {
                    val score =
                        SlidingWindowEvaluator(model, store, backend, tokenizer)
                            .evaluate(stream, 8, stride)
                    val expected =
                        ln(tokenizer.vocabSize.toDouble()) / ln(2.0) * score.tokens / score.bytes
                    abs(score.bitsPerByte - expected) / expected shouldBeLessThan 1e-5
                    score.tokens shouldBe (stream.size - 1).toLong()
                }
            }
            // With the character tokenizer one token is one byte: bits per byte is log2(vocab).
            val chars = CharTokenizer.encode(text)
            ParameterStore(ParamRegistry(), backend, seed = 1).use { store ->
                val score =
                    SlidingWindowEvaluator(
                            Uniform(CharTokenizer.vocabSize),
                            store,
                            backend,
                            CharTokenizer,
                        )
                        .evaluate(chars, 16, 5)
                score.bitsPerByte shouldBe
                    (ln(CharTokenizer.vocabSize.toDouble()) / ln(2.0) plusOrMinus 1e-4)
                (score.xzBitsPerByte > 0.0 && score.gzipBitsPerByte > 0.0) shouldBe true
            }
        }

        test("compressors: repetitive text compresses far below random bytes") {
            val repetitive = text.repeat(20).encodeToByteArray()
            val random = ByteArray(repetitive.size).also { Random(1).nextBytes(it) }
            (Compressors.xzBits(repetitive) / repetitive.size) shouldBeLessThan 1.0
            (Compressors.gzipBits(repetitive) / repetitive.size) shouldBeLessThan 1.0
            (Compressors.xzBits(random) / random.size > 7.9) shouldBe true
        }
    })
