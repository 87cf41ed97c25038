package looplab.pipelines.posttrain.grpo

import kotlin.math.sqrt
import looplab.curriculum.chat.AnswerReward
import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.chat.Conversation
import looplab.curriculum.data.Seeds
import looplab.curriculum.text.Tokenizer
import looplab.dsl.GrpoSpec
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.decode.Generator
import looplab.models.decode.SamplingConfig
import looplab.models.eager.ParameterStore
import looplab.models.rl.Grpo

/**
 * Makes GRPO's generation batches: draws [GrpoSpec.promptsPerStep] training prompts, samples
 * [GrpoSpec.groupSize] completions of each with the KV-cached [generator], scores them with the
 * strict [AnswerReward], turns the rewards into group-relative advantages, and records the sampling
 * policy's and the reference's log-probabilities of every completion token.
 *
 * Everything random derives from (seed, batch index): prompt `i` of batch `b` is training
 * conversation `b·P + i`, and the sampler of batch `b` is seeded from (seed, b), so a resumed stage
 * draws and samples exactly what an uninterrupted one would.
 */
internal class RolloutMaker(
    private val stage: GrpoSpec,
    private val model: LanguageModel,
    private val store: ParameterStore,
    /** The frozen starting weights; null when β = 0 (no reference pass at all). */
    private val reference: ParameterStore?,
    private val executor: Executor,
    private val generator: Generator,
    private val tokenizer: Tokenizer,
    private val prompts: ChatMixture,
    private val seed: Long,
) {
    private val template = ChatTemplate(tokenizer)
    private val reward = AnswerReward(stage.reward)

    /** Generation batch [index]. */
    fun make(index: Long): Rollout {
        val conversations =
            (0 until stage.promptsPerStep).map { prompts.train(index * stage.promptsPerStep + it) }
        val references = conversations.map(::referenceOf)
        val promptIds = conversations.map(template::prompt)
        val rows = promptIds.flatMap { p -> List(stage.groupSize) { p } }
        val sampling =
            SamplingConfig(
                stage.maxNewTokens,
                temperature = stage.temperature,
                stopTokens = setOf(tokenizer.eos),
                seed = Seeds.mix(seed, SAMPLING, index),
            )
        val started = System.nanoTime()
        val completions = generator.generate(rows, sampling)
        val generationSeconds = (System.nanoTime() - started) / 1e9

        val scores =
            completions.mapIndexed { r, c ->
                reward.score(tokenizer.decode(c), references[r / stage.groupSize], c.size)
            }
        val rewards = DoubleArray(rows.size) { scores[it].value }
        val advantages = Grpo.advantages(rewards, stage.groupSize, stage.scaleByStd)
        // A completion that stopped is trained on its EOS too, so the model learns when to stop.
        val sequences =
            rows.indices.map { r ->
                val c = completions[r]
                rows[r] +
                    c +
                    (if (c.size < stage.maxNewTokens) intArrayOf(tokenizer.eos) else IntArray(0))
            }
        val length = roundUp(sequences.maxOf { it.size } - 1, LENGTH_STEP)
        val inputs = IntArray(rows.size * length) { tokenizer.pad }
        val targets = IntArray(rows.size * length) { tokenizer.pad }
        val mask = FloatArray(rows.size * length)
        sequences.forEachIndexed { r, s ->
            for (t in 0 until s.size - 1) {
                inputs[r * length + t] = s[t]
                targets[r * length + t] = s[t + 1]
                if (t + 1 >= rows[r].size) mask[r * length + t] = 1f
            }
        }
        val scoringStarted = System.nanoTime()
        val unscored =
            Rollout(
                index,
                rows.size,
                length,
                inputs,
                targets,
                mask,
                FloatArray(rows.size) { advantages[it].toFloat() },
                FloatArray(0),
                null,
                emptyMap(),
            )
        val old = logProbs(store, unscored)
        val ref = reference?.let { logProbs(it, unscored) }
        val scoringSeconds = (System.nanoTime() - scoringStarted) / 1e9

        val generated = completions.sumOf { it.size }.toDouble()
        val mean = rewards.average()
        val stats =
            mapOf(
                "reward_mean" to mean,
                "reward_std" to sqrt(rewards.sumOf { (it - mean) * (it - mean) } / rewards.size),
                "accuracy" to scores.count { it.correct }.toDouble() / scores.size,
                "format_rate" to scores.count { it.wellFormed }.toDouble() / scores.size,
                "zero_variance_groups" to Grpo.zeroVarianceShare(rewards, stage.groupSize),
                "completion_length" to generated / completions.size,
                "generation_seconds" to generationSeconds,
                "generation_tokens_per_second" to generated / generationSeconds,
                "scoring_seconds" to scoringSeconds,
                "sampled_nll" to
                    -old.indices.sumOf { if (mask[it] > 0f) old[it].toDouble() else 0.0 } /
                        mask.sumOf { it.toDouble() },
            )
        return Rollout(
            index,
            rows.size,
            length,
            inputs,
            targets,
            mask,
            unscored.advantages,
            old,
            ref,
            stats,
        )
    }

    /**
     * Log-probabilities of every target under [weights] (at the sampling temperature), in passes of
     * whole groups.
     */
    private fun logProbs(weights: ParameterStore, rollout: Rollout): FloatArray {
        val out = FloatArray(rollout.rows * rollout.length)
        for ((from, until) in passes(rollout.rows, stage.groupSize)) {
            val part = rollout.rows(from, until)
            val values =
                executor
                    .run(weights, train = false) { ops, params ->
                        listOf(
                            GrpoObjective.policyLogProbs(
                                    ops,
                                    model,
                                    params,
                                    part,
                                    stage.temperature,
                                    looplab.models.Pass.Inference,
                                )
                                .first
                        )
                    }[0]
            values.copyInto(out, from * rollout.length)
        }
        return out
    }

    private fun referenceOf(conversation: Conversation): String =
        conversation.answer
            ?: throw GrpoDataException(
                "a GRPO prompt has no reference answer (its last assistant turn needs an answer, which the verifier compares): ${conversation.turns.firstOrNull()}"
            )

    companion object {
        /** Sequences are padded to a multiple of this, so a compiled backend sees few shapes. */
        const val LENGTH_STEP = 16

        /**
         * Rows per forward pass: whole groups, at most this many rows unless one group is larger.
         */
        const val ROWS_PER_PASS = 16

        private const val SAMPLING = 0x6772706FL

        fun roundUp(n: Int, step: Int) = (n + step - 1) / step * step

        /** Row ranges of whole groups, each at most [ROWS_PER_PASS] rows (or one group). */
        fun passes(rows: Int, groupSize: Int): List<Pair<Int, Int>> {
            val perPass = maxOf(1, ROWS_PER_PASS / groupSize) * groupSize
            return (0 until rows step perPass).map { it to minOf(rows, it + perPass) }
        }
    }
}

/** Prompts GRPO cannot use (e.g. a conversation without a reference answer). */
public class GrpoDataException(message: String) :
    IllegalArgumentException(message), looplab.dsl.UserFacingError
