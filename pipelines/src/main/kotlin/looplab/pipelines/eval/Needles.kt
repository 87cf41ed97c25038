package looplab.pipelines.eval

import kotlin.math.pow
import kotlin.math.roundToInt
import kotlin.random.Random
import kotlinx.serialization.Serializable
import looplab.curriculum.data.Seeds
import looplab.curriculum.text.Tokenizer

/** The sentences of a needle problem; `{code}` in [needle] is replaced by the code. */
public data class NeedleFormat(
    val needle: String = " The secret code is {code}. ",
    val question: String = " What is the secret code? The secret code is ",
    val digits: Int = 5,
) {
    init {
        require("{code}" in needle) { "the needle sentence must contain {code}" }
        require(digits in 1..18) { "codes have 1 to 18 digits, was $digits" }
    }

    /** Exact match by guessing: one code in 10^digits. */
    val chance: Double
        get() = 10.0.pow(-digits)
}

/**
 * One needle-in-a-haystack problem, as tokens. [needleAt] is the prompt index where the needle
 * sentence starts.
 */
public class NeedleProblem(
    public val prompt: IntArray,
    public val answer: IntArray,
    public val code: String,
    public val needleAt: Int,
    public val fillerTokens: Int,
)

/**
 * Builds needle problems: BOS, then filler text with the needle sentence inserted after
 * `round(depth × filler tokens)` filler tokens (depth 0: right after BOS, depth 1: right before the
 * question), then the question; the answer is the code. Filler is cut from [filler] at a random
 * place, with digits taken out so that the code is the only number in the prompt.
 */
public class NeedleGenerator(
    private val tokenizer: Tokenizer,
    filler: String,
    public val format: NeedleFormat = NeedleFormat(),
) {
    private val fillerIds: IntArray = tokenizer.encode(clean(filler))
    private val questionIds = tokenizer.encode(format.question)

    /** Tokens of a prompt besides its filler (BOS, needle, question). */
    public fun overhead(): Int =
        1 +
            tokenizer.encode(format.needle.replace("{code}", "0".repeat(format.digits))).size +
            questionIds.size

    /**
     * A problem of [length] prompt tokens with the needle at [depth] (0..1), drawn from [random].
     */
    public fun problem(length: Int, depth: Double, random: Random): NeedleProblem {
        require(depth in 0.0..1.0) { "needle depth must be within 0..1, was $depth" }
        val code = (1..format.digits).map { random.nextInt(10) }.joinToString("")
        val needleIds = tokenizer.encode(format.needle.replace("{code}", code))
        val fillerCount = length - 1 - needleIds.size - questionIds.size
        require(fillerCount >= 0) {
            "a needle prompt of $length tokens leaves no room for filler (the needle and question take ${length - fillerCount})"
        }
        require(fillerIds.size > fillerCount) {
            "the filler text has ${fillerIds.size} tokens, fewer than the $fillerCount needed"
        }
        val offset = random.nextInt(fillerIds.size - fillerCount)
        val before = (depth * fillerCount).roundToInt()
        val prompt = IntArray(length)
        prompt[0] = tokenizer.bos
        fillerIds.copyInto(prompt, 1, offset, offset + before)
        needleIds.copyInto(prompt, 1 + before)
        fillerIds.copyInto(
            prompt,
            1 + before + needleIds.size,
            offset + before,
            offset + fillerCount,
        )
        questionIds.copyInto(prompt, length - questionIds.size)
        return NeedleProblem(prompt, tokenizer.encode(code), code, 1 + before, fillerCount)
    }

    private companion object {
        /**
         * One space for any run of whitespace, printable ASCII only and no digits: filler any
         * tokenizer encodes, with no numbers to confuse.
         */
        fun clean(text: String): String =
            text.replace(Regex("\\s+"), " ").filter { it in ' '..'~' && !it.isDigit() }
    }
}

/**
 * Exact-match retrieval at one (length, depth); [correct] is null when the length does not fit the
 * model's context.
 */
@Serializable
public data class NeedleCell(
    val length: Int,
    val depth: Double,
    val correct: Int?,
    val total: Int,
    val withinContext: Boolean,
) {
    val accuracy: Double?
        get() = correct?.let { it.toDouble() / total }
}

@Serializable
public data class NeedleResults(
    val contextLength: Int,
    val digits: Int,
    val chance: Double,
    val cells: List<NeedleCell>,
) {
    /** Mean accuracy per length over depths, for lengths within the context. */
    public fun byLength(): Map<Int, Double> =
        cells
            .filter { it.withinContext }
            .groupBy { it.length }
            .mapValues { (_, c) -> c.map { it.accuracy!! }.average() }
}

/**
 * Needle retrieval over a length × depth grid with greedy decoding. A length whose prompt and
 * answer do not fit in [contextLength] tokens is reported as past the context, never truncated.
 */
public class NeedleEvaluator(
    private val completer: Completer,
    private val generator: NeedleGenerator,
    private val contextLength: Int,
    private val seed: Long,
    private val batchRows: Int = 16,
) {
    public fun evaluate(lengths: List<Int>, depths: List<Double>, samples: Int): NeedleResults {
        val digits = generator.format.digits
        val cells =
            lengths.flatMap { length ->
                depths.mapIndexed { d, depth ->
                    // Codes are digits; the answer's token count is the same for every code of a
                    // tokenizer that splits digits.
                    val problems =
                        (0 until samples).map { i ->
                            generator.problem(
                                length,
                                depth,
                                Random(
                                    Seeds.mix(
                                        seed,
                                        NEEDLE_STREAM,
                                        length.toLong(),
                                        d.toLong(),
                                        i.toLong(),
                                    )
                                ),
                            )
                        }
                    val fits = problems.all { length + it.answer.size - 1 <= contextLength }
                    if (!fits)
                        return@mapIndexed NeedleCell(
                            length,
                            depth,
                            null,
                            samples,
                            withinContext = false,
                        )
                    var correct = 0
                    problems
                        .groupBy { it.answer.size }
                        .forEach { (answerLength, group) ->
                            group.chunked(batchRows).forEach { chunk ->
                                val outputs =
                                    completer.complete(chunk.map { it.prompt }, answerLength)
                                chunk.forEachIndexed { j, p ->
                                    if (outputs[j].contentEquals(p.answer)) correct++
                                }
                            }
                        }
                    NeedleCell(length, depth, correct, samples, withinContext = true)
                }
            }
        return NeedleResults(contextLength, digits, generator.format.chance, cells)
    }

    private companion object {
        const val NEEDLE_STREAM = 0x4E45454CL
    }
}
