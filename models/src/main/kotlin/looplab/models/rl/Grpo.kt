package looplab.models.rl

import kotlin.math.sqrt
import looplab.dsl.LossAggregation
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/** The GRPO loss of a batch of completions, with what to log beside it (scalars). */
public class GrpoTerms(
    /** The loss to minimise: −(clipped objective − β·KL), aggregated as asked. */
    public val loss: Tensor,
    /** Mean k3 KL to the reference over completion tokens (0 without a reference). */
    public val kl: Tensor,
    /** Share of completion tokens whose ratio lies outside [1 − ε, 1 + ε]. */
    public val clipFraction: Tensor,
)

/**
 * GRPO's maths (DeepSeekMath, arXiv 2402.03300), as functions of tensors so that any backend runs
 * them: group-relative advantages and the per-token clipped-ratio objective with a k3 KL penalty.
 */
public object Grpo {
    /**
     * Advantages of [rewards], laid out group after group ([groupSize] completions of one prompt
     * each): `r − mean(group)`, divided by the group's standard deviation (population, + [eps])
     * when [scaleByStd]. Dr. GRPO drops the division: it over-weights groups that are almost all
     * right or all wrong. A group whose rewards are all equal gets zero advantages: it carries no
     * signal.
     */
    @JvmStatic
    @JvmOverloads
    public fun advantages(
        rewards: DoubleArray,
        groupSize: Int,
        scaleByStd: Boolean = true,
        eps: Double = 1e-4,
    ): DoubleArray {
        require(groupSize >= 1 && rewards.size % groupSize == 0) {
            "${rewards.size} rewards do not split into groups of $groupSize"
        }
        val out = DoubleArray(rewards.size)
        for (g in 0 until rewards.size / groupSize) {
            val from = g * groupSize
            val group = rewards.copyOfRange(from, from + groupSize)
            val mean = group.average()
            val std = sqrt(group.sumOf { (it - mean) * (it - mean) } / groupSize)
            for (i in group.indices) out[from + i] =
                (group[i] - mean) / (if (scaleByStd) std + eps else 1.0)
        }
        return out
    }

    /** Share of groups whose rewards are all equal (no learning signal), to log. */
    @JvmStatic
    public fun zeroVarianceShare(rewards: DoubleArray, groupSize: Int): Double {
        val groups = rewards.size / groupSize
        return (0 until groups)
            .count { g ->
                (1 until groupSize).all { rewards[g * groupSize + it] == rewards[g * groupSize] }
            }
            .toDouble() / groups
    }

    /**
     * The loss of completions ([N] rows of [T] tokens):
     *
     *     ρ = exp(logπ − logπ_old),  J_t = min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A) − β·KL_t,
     *     KL_t = exp(logπ_ref − logπ) − (logπ_ref − logπ) − 1   (k3: ≥ 0, 0 where π = π_ref)
     *
     * and the loss is −J averaged over the tokens where [mask] is 1: over all of them at once
     * ([LossAggregation.Token]) or per completion, then over completions
     * ([LossAggregation.Sequence]). [logProbs] are the policy's (differentiable); [oldLogProbs]
     * (the sampling policy's) and [refLogProbs] (the frozen reference's; null when β = 0) are
     * constants; [advantages] is [N, 1].
     */
    @JvmStatic
    public fun loss(
        ops: Ops,
        logProbs: Tensor,
        oldLogProbs: Tensor,
        refLogProbs: Tensor?,
        advantages: Tensor,
        mask: Tensor,
        epsilon: Double,
        beta: Double,
        aggregation: LossAggregation = LossAggregation.Token,
    ): GrpoTerms =
        with(ops) {
            val ratio = exp(logProbs - oldLogProbs)
            val objective =
                minimum(ratio * advantages, clamp(ratio, 1.0 - epsilon, 1.0 + epsilon) * advantages)
            val kl =
                refLogProbs?.let { ref ->
                    val logRatio = ref - logProbs
                    exp(logRatio) - logRatio - full(1.0, emptyList())
                }
            val perToken =
                if (kl == null || beta == 0.0) scale(objective, -1.0)
                else scale(objective, -1.0) + scale(kl, beta)
            val tokens = sumAll(mask)
            val loss =
                when (aggregation) {
                    LossAggregation.Token -> sumAll(perToken * mask) / tokens
                    LossAggregation.Sequence -> {
                        val perSequence = sum(perToken * mask, 1) / sum(mask, 1)
                        scale(sumAll(perSequence), 1.0 / mask.shape[0])
                    }
                }
            val outside =
                greaterEqual(ratio, full(1.0 + epsilon + CLIP_MARGIN, emptyList())) +
                    greaterEqual(full(1.0 - epsilon - CLIP_MARGIN, emptyList()), ratio)
            GrpoTerms(
                loss = loss,
                kl = kl?.let { sumAll(it * mask) / tokens } ?: full(0.0, emptyList()),
                clipFraction = sumAll(outside * mask) / tokens,
            )
        }

    /**
     * Mean entropy (nats) of the next-token distributions of [logits] ([B, T, V]) where [mask] ([B,
     * T]) is 1.
     */
    @JvmStatic
    public fun entropy(ops: Ops, logits: Tensor, mask: Tensor): Tensor =
        with(ops) {
            // H = logΣexp(z) − Σ softmax(z)·z
            val perToken = logSumExp(logits, -1) - sum(softmax(logits, -1) * logits, -1)
            sumAll(perToken * mask) / sumAll(mask)
        }

    // A ratio that differs from the bound by rounding alone is not clipped.
    private const val CLIP_MARGIN = 1e-6
}
