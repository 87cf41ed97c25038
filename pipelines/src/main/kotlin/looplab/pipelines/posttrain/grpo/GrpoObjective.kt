package looplab.pipelines.posttrain.grpo

import looplab.dsl.GrpoSpec
import looplab.dsl.LossAggregation
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.Pass
import looplab.models.eager.ParameterStore
import looplab.models.params.Params
import looplab.models.rl.Grpo
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor
import looplab.pipelines.train.MicroBatch
import looplab.pipelines.train.Objective
import looplab.pipelines.train.StepLoss

/**
 * GRPO's objective for the [looplab.pipelines.train.TrainingLoop]: the clipped-ratio loss with the
 * k3 KL penalty ([Grpo.loss]) of the policy's log-probabilities against those the rollout recorded.
 * Micro-batches are whole groups, weighted so that they add up to the whole batch's loss: by
 * completion tokens for token-level aggregation, by rows for sequence-level.
 *
 * Logged beside the loss: KL, clip fraction, entropy, the forward and backward time, and, with a
 * batch's first update, what its sampling found (reward mean and std, accuracy, format rate, share
 * of zero-variance groups, completion length, generation and scoring time).
 */
internal class GrpoObjective(
    private val stage: GrpoSpec,
    private val executor: Executor,
    private val model: LanguageModel,
    private val store: ParameterStore,
) : Objective<GrpoBatch> {
    override fun split(batch: GrpoBatch, count: Int): List<MicroBatch<GrpoBatch>> {
        val rollout = batch.rollout
        val parts =
            RolloutMaker.passes(rollout.rows, stage.groupSize).map { (from, until) ->
                rollout.rows(from, until)
            }
        val share =
            parts.map { part ->
                when (stage.aggregation) {
                    LossAggregation.Token ->
                        part.completionTokens.toDouble() / rollout.completionTokens
                    LossAggregation.Sequence -> part.rows.toDouble() / rollout.rows
                }
            }
        return parts.mapIndexed { i, part ->
            MicroBatch(GrpoBatch(part, batch.update, share[i]), share[i])
        }
    }

    override fun forwardBackward(micro: GrpoBatch, pass: Pass, lossScale: Double): StepLoss {
        val r = micro.rollout
        val started = System.nanoTime()
        val out =
            executor.run(store, train = true, lossScale = lossScale) { ops, params ->
                val (logProbs, logits) =
                    policyLogProbs(ops, model, params, r, stage.temperature, pass)
                val mask = ops.floats(r.mask, listOf(r.rows, r.length))
                val terms =
                    Grpo.loss(
                        ops,
                        logProbs,
                        oldLogProbs = ops.floats(r.oldLogProbs, listOf(r.rows, r.length)),
                        refLogProbs =
                            r.refLogProbs?.let { ops.floats(it, listOf(r.rows, r.length)) },
                        advantages = ops.floats(r.advantages, listOf(r.rows, 1)),
                        mask = mask,
                        epsilon = stage.epsilon,
                        beta = stage.beta,
                        aggregation = stage.aggregation,
                    )
                listOf(terms.loss, terms.kl, terms.clipFraction, Grpo.entropy(ops, logits, mask))
            }
        val seconds = (System.nanoTime() - started) / 1e9
        val positions = r.rows * r.length.toDouble()
        // The loop sums micro-batch extras weighted by their shares: the whole batch's sampling
        // figures
        // come out as they are, and times and token counts are divided by the share so that they
        // add up.
        val extra =
            linkedMapOf(
                "kl" to out[1][0].toDouble(),
                "clip_fraction" to out[2][0].toDouble(),
                "entropy" to out[3][0].toDouble(),
                "train_seconds" to seconds / micro.weight,
                "train_tokens" to positions / micro.weight,
                "train_tokens_per_second" to positions / seconds,
            )
        if (micro.update == 0) r.stats.forEach { (name, value) -> extra[name] = value }
        return StepLoss(out[0][0].toDouble(), extra)
    }

    override fun tokens(batch: GrpoBatch): Long = batch.rollout.completionTokens

    companion object {
        /**
         * The policy's log-probabilities of [rollout]'s targets at [temperature] ([rows, length]),
         * and the tempered logits.
         */
        fun policyLogProbs(
            ops: Ops,
            model: LanguageModel,
            params: Params,
            rollout: Rollout,
            temperature: Double,
            pass: Pass,
        ): Pair<Tensor, Tensor> {
            val logits =
                model.logits(
                    ops,
                    params,
                    ops.tokens(rollout.inputs, rollout.rows, rollout.length),
                    pass,
                )
            val tempered = if (temperature == 1.0) logits else ops.scale(logits, 1.0 / temperature)
            return ops.tokenLogProbs(
                tempered,
                ops.tokens(rollout.targets, rollout.rows, rollout.length),
            ) to tempered
        }
    }
}
