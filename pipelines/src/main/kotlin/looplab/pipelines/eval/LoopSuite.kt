package looplab.pipelines.eval

import kotlin.random.Random
import kotlinx.serialization.Serializable
import looplab.curriculum.data.MixedTask
import looplab.curriculum.data.Seeds
import looplab.curriculum.text.Tokenizer
import looplab.models.LanguageModel
import looplab.models.LoopedModel
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.eager.array
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * Quality at one depth: answer loss (nats per answer token, EOS included) and exact-match accuracy
 * on algorithmic problems in and out of distribution, and loss per token on held-out text. Accuracy
 * is teacher-forced: a problem counts when every answer token and the closing EOS are the model's
 * top choice, which is exactly when greedy decoding would produce the answer.
 */
@Serializable
public data class LoopPoint(
    val loops: Int,
    val iidLoss: Double? = null,
    val iidAccuracy: Double? = null,
    val oodLoss: Double? = null,
    val oodAccuracy: Double? = null,
    val languageLoss: Double? = null,
)

/**
 * What a looped model shows that others cannot: [perLoop], one pass at the trained depth read out
 * after each loop (final norm and head); [earlyExit], passes that run 1..trained loops;
 * [extrapolation], passes at 1×..4× the trained loops (empty, with [extrapolationBlocker], when the
 * model has parameters per trained loop); [byLength], accuracy per task and length against every
 * depth up to the deepest extrapolation; and [depthRules], per task, the depth that follows the
 * length (`loops = length + offset`) fitted on the training lengths.
 */
@Serializable
public data class LoopCurves(
    val trainedLoops: Int,
    val perLoop: List<LoopPoint>,
    val earlyExit: List<LoopPoint>,
    val extrapolation: List<LoopPoint>,
    val extrapolationBlocker: String? = null,
    val byLength: List<LengthCurve> = emptyList(),
    val depthRules: List<DepthRule> = emptyList(),
)

/** The loops suite on a model that is a [LoopedModel]. */
public class LoopSuite(
    private val model: LanguageModel,
    private val store: ParameterStore,
    private val backend: EagerBackend,
    private val tokenizer: Tokenizer,
    private val seed: Long,
    private val rows: Int = 32,
) {
    private val looped =
        model as? LoopedModel
            ?: throw IllegalArgumentException("the loops suite needs a looped model")

    /** Sequences to score: [bos prompt answer eos], the mask covering answer and EOS targets. */
    private class Scored(val ids: IntArray, val firstTarget: Int)

    public fun evaluate(
        tasks: List<MixedTask>,
        samples: Int,
        language: IntArray?,
        languageWindow: Int,
        languageTokens: Int,
        multiples: Int = 4,
    ): LoopCurves {
        val iid = problems(tasks, samples, ood = false)
        val ood = problems(tasks, samples, ood = true)
        val text = language?.let { windows(it, languageWindow, languageTokens) }.orEmpty()
        val trained = looped.trainedLoops
        // One point per readout: a pass read out after every loop gives [labels] 1..n, a pass at
        // one depth gives that depth.
        fun measure(labels: List<Int>, logitsOf: (Ops, Tensor) -> List<Tensor>): List<LoopPoint> {
            val i = score(iid, logitsOf)
            val o = score(ood, logitsOf)
            val l = score(text, logitsOf)
            return labels.mapIndexed { k, loops ->
                LoopPoint(
                    loops,
                    iidLoss = i.getOrNull(k)?.first,
                    iidAccuracy = i.getOrNull(k)?.second,
                    oodLoss = o.getOrNull(k)?.first,
                    oodAccuracy = o.getOrNull(k)?.second,
                    languageLoss = l.getOrNull(k)?.first,
                )
            }
        }
        val perLoop =
            measure((1..trained).toList()) { ops, tokens ->
                looped.loopLogits(ops, store, tokens, trained)
            }
        val earlyExit =
            (1..trained).flatMap { k ->
                measure(listOf(k)) { ops, tokens ->
                    listOf(looped.logitsAtDepth(ops, store, tokens, k))
                }
            }
        val blocker = looped.extrapolationBlocker
        val extrapolation =
            if (blocker != null) emptyList()
            else
                (1..multiples).flatMap { m ->
                    measure(listOf(m * trained)) { ops, tokens ->
                        listOf(looped.logitsAtDepth(ops, store, tokens, m * trained))
                    }
                }
        // One pass at the deepest depth per length, read out after every loop: a loop's readout is
        // what a pass of that many loops gives, so this is accuracy at every depth for one pass.
        val deepest = multiples * trained
        val byLength =
            if (blocker != null) emptyList()
            else
                tasks.flatMap { mixed ->
                    mixed.gridLengths.map { length ->
                        val accuracy =
                            score(problems(mixed, samples, length)) { ops, tokens ->
                                    looped.loopLogits(ops, store, tokens, deepest)
                                }
                                .map { it.second }
                        LengthCurve(mixed.task.id.name, length, length !in mixed.train, accuracy)
                    }
                }
        val rules = byLength.groupBy { it.task }.values.mapNotNull { DepthRule.fit(it) }
        return LoopCurves(trained, perLoop, earlyExit, extrapolation, blocker, byLength, rules)
    }

    private fun lengths(mixed: MixedTask, ood: Boolean): List<Int> =
        if (ood) mixed.ood else (mixed.train.min..mixed.train.max).toList()

    private fun problems(tasks: List<MixedTask>, samples: Int, ood: Boolean): List<Scored> =
        tasks.flatMap { mixed ->
            lengths(mixed, ood).flatMap { length -> problems(mixed, samples, length) }
        }

    /** [samples] problems of one task at one length, the same ones whichever curve scores them. */
    private fun problems(mixed: MixedTask, samples: Int, length: Int): List<Scored> =
        (0 until samples).map { i ->
            val example =
                mixed.task.sample(
                    Random(
                        Seeds.mix(
                            seed,
                            LOOP_STREAM,
                            Seeds.of(mixed.task.id.name),
                            length.toLong(),
                            i.toLong(),
                        )
                    ),
                    length,
                )
            val prompt = intArrayOf(tokenizer.bos) + tokenizer.encode(example.prompt)
            Scored(prompt + tokenizer.encode(example.answer) + tokenizer.eos, prompt.size - 1)
        }

    private fun windows(stream: IntArray, window: Int, maxTokens: Int): List<Scored> =
        SlidingWindows.plan(minOf(stream.size, maxTokens + 1), window, window).map {
            Scored(stream.copyOfRange(it.start, it.start + it.length + 1), 0)
        }

    /**
     * (mean loss per scored token, fraction of sequences with every scored token the top choice)
     * for each logits tensor [logitsOf] returns, over [items] in batches of equal length.
     */
    private fun score(
        items: List<Scored>,
        logitsOf: (Ops, Tensor) -> List<Tensor>,
    ): List<Pair<Double, Double>> {
        if (items.isEmpty()) return emptyList()
        var nats = DoubleArray(0)
        var right = IntArray(0)
        var tokens = 0L
        items
            .groupBy { it.ids.size }
            .forEach { (size, group) ->
                val length = size - 1
                // Log-probabilities come to the host: bound a batch's [rows, length, vocab] to
                // about 4M floats.
                group
                    .chunked(maxOf(1, minOf(rows, 4_000_000 / (length * model.vocabSize))))
                    .forEach { chunk ->
                        val inputs =
                            IntArray(chunk.size * length).also { a ->
                                chunk.forEachIndexed { r, s ->
                                    s.ids.copyInto(a, r * length, 0, length)
                                }
                            }
                        val vocab = model.vocabSize
                        // Each readout is tallied as it comes to the host, so a deep pass holds one
                        // readout's log-probabilities there at a time.
                        backend.scoped(store.values) { ops, _ ->
                            val readouts = logitsOf(ops, ops.tokens(inputs, chunk.size, length))
                            if (nats.isEmpty()) {
                                nats = DoubleArray(readouts.size)
                                right = IntArray(readouts.size)
                            }
                            check(readouts.size == nats.size) {
                                "readouts per pass changed between batches"
                            }
                            readouts.forEachIndexed { k, logits ->
                                val logProbs = logits.array.logSoftmax(-1).toFloatArray()
                                val argmax = logits.array.argMax(-1).toLongArray()
                                chunk.forEachIndexed { r, s ->
                                    var all = true
                                    for (p in s.firstTarget until length) {
                                        val target = s.ids[p + 1]
                                        nats[k] -= logProbs[(r * length + p) * vocab + target]
                                        if (argmax[r * length + p].toInt() != target) all = false
                                    }
                                    if (all) right[k]++
                                }
                            }
                        }
                        tokens += chunk.sumOf { length - it.firstTarget }
                    }
            }
        return nats.indices.map { k -> nats[k] / tokens to right[k].toDouble() / items.size }
    }

    private companion object {
        const val LOOP_STREAM = 0x4C4F4F50L
    }
}
