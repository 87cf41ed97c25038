package looplab.models.checks

import kotlin.math.abs
import kotlin.math.max
import kotlin.random.Random
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.eager.ParameterStore

/** What a check found: whether it passed, and if not, where and by how much. */
public data class CheckResult(val passed: Boolean, val detail: String)

/**
 * The two checks every looplab model must pass before it is trained or compared (seed 002's
 * published perplexity came from failing both): outputs at position t may not depend on tokens
 * after t, and padding may not move the loss. They run on any [Executor], so a compiled program is
 * checked as well as the eager model it came from.
 */
public object ModelChecks {
    /**
     * Changes every token after position `t` for several `t` and requires the logits at positions ≤
     * t to stay within [tolerance] (relative to the logits' scale).
     */
    public fun causality(
        model: LanguageModel,
        store: ParameterStore,
        executor: Executor,
        length: Int,
        seed: Long = 1,
        tolerance: Double = 1e-5,
    ): CheckResult {
        val random = Random(seed)
        val base = IntArray(length) { random.nextInt(model.vocabSize) }
        val reference = logits(model, store, executor, base, length)
        val scale = reference.maxOf { abs(it) }.coerceAtLeast(1f)
        val cuts =
            listOf(0, length / 3, length / 2, length - 2)
                .filter { it in 0 until length - 1 }
                .distinct()
        for (t in cuts) {
            val changed =
                base.copyOf().also {
                    for (i in t + 1 until length) it[i] =
                        (it[i] + 1 + random.nextInt(model.vocabSize - 1)) % model.vocabSize
                }
            val perturbed = logits(model, store, executor, changed, length)
            val prefix = (t + 1) * model.vocabSize
            var worst = 0.0
            var at = -1
            for (i in 0 until prefix) {
                val diff = abs(reference[i] - perturbed[i]).toDouble()
                if (diff > worst) {
                    worst = diff
                    at = i / model.vocabSize
                }
            }
            if (worst > tolerance * scale) {
                return CheckResult(
                    false,
                    "changing tokens after position $t moved the logits at position $at by $worst: the model sees the future",
                )
            }
        }
        return CheckResult(
            true,
            "logits at ≤ t unchanged when tokens after t change (t ∈ $cuts, length $length)",
        )
    }

    /**
     * Appends padding (with arbitrary ids) behind a sequence and requires the masked loss to stay
     * the same within [tolerance].
     */
    public fun paddingInvariance(
        model: LanguageModel,
        store: ParameterStore,
        executor: Executor,
        length: Int,
        padding: Int,
        seed: Long = 2,
        tolerance: Double = 1e-5,
    ): CheckResult {
        val random = Random(seed)
        val tokens = IntArray(length + 1) { random.nextInt(model.vocabSize) }
        val short = loss(model, store, executor, tokens, length, padding = 0, random)
        val padded = loss(model, store, executor, tokens, length, padding, random)
        val otherPadding = loss(model, store, executor, tokens, length, padding, random)
        val worst = max(abs(short - padded), abs(short - otherPadding))
        return if (worst <= tolerance * max(1.0, abs(short))) {
            CheckResult(true, "loss $short unchanged by $padding padding positions")
        } else {
            CheckResult(
                false,
                "padding moved the loss from $short to $padded / $otherPadding: padding is not masked",
            )
        }
    }

    private fun logits(
        model: LanguageModel,
        store: ParameterStore,
        executor: Executor,
        tokens: IntArray,
        length: Int,
    ): FloatArray =
        executor
            .run(store, train = false) { ops, params ->
                listOf(model.logits(ops, params, ops.tokens(tokens, 1, length)))
            }
            .single()

    private fun loss(
        model: LanguageModel,
        store: ParameterStore,
        executor: Executor,
        tokens: IntArray,
        length: Int,
        padding: Int,
        random: Random,
    ): Double {
        val total = length + padding
        val inputs =
            IntArray(total) { if (it < length) tokens[it] else random.nextInt(model.vocabSize) }
        val targets =
            IntArray(total) { if (it < length) tokens[it + 1] else random.nextInt(model.vocabSize) }
        val mask = FloatArray(total) { if (it < length) 1f else 0f }
        return executor
            .run(store, train = false) { ops, params ->
                listOf(
                    model
                        .loss(
                            ops,
                            params,
                            ops.tokens(inputs, 1, total),
                            ops.tokens(targets, 1, total),
                            ops.floats(mask, listOf(1, total)),
                        )
                        .loss
                )
            }
            .single()
            .single()
            .toDouble()
    }
}
