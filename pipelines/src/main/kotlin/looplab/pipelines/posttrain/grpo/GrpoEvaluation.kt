package looplab.pipelines.posttrain.grpo

import looplab.curriculum.chat.AnswerReward
import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.chat.Conversation
import looplab.curriculum.text.Tokenizer
import looplab.dsl.RewardSpec
import looplab.models.decode.Generator
import looplab.models.decode.SamplingConfig
import looplab.pipelines.metrics.AccuracyCell
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.sft.ChatEvaluator
import looplab.pipelines.train.Evaluation

/** Held-out accuracy and answer-format rate of one split. */
internal data class ChatScore(
    val split: String,
    val correct: Int,
    val wellFormed: Int,
    val total: Int,
) {
    val accuracy: Double
        get() = correct.toDouble() / total

    val formatRate: Double
        get() = wellFormed.toDouble() / total
}

/**
 * Held-out evaluation of a chat stage: greedy, KV-cached answers to [samples] held-out prompts (in
 * distribution) and as many out of distribution, scored by the same strict verifier as the rewards.
 * Recorded as an SFT stage's evaluation records itself ([ChatEvaluator]): tasks `format` and
 * `answer`, splits `iid` and `ood`, so the two stages' curves and tables line up.
 */
internal class GrpoEvaluation(
    private val variant: String,
    private val stage: String,
    private val every: Long?,
    private val generator: Generator,
    private val tokenizer: Tokenizer,
    private val prompts: ChatMixture,
    private val samples: Int,
    private val maxNewTokens: Int,
    reward: RewardSpec,
) : Evaluation {
    private val template = ChatTemplate(tokenizer)
    private val verifier = AnswerReward(reward)

    /** The scores of the last evaluation. */
    var last: List<ChatScore> = emptyList()
        private set

    override fun due(step: Long): Boolean = every != null && step % every == 0L

    override fun evaluate(step: Long): EvalMetrics {
        val iid = (0 until samples).map { prompts.heldOut(it.toLong()) }
        val ood = (0 until samples).mapNotNull { prompts.outOfDistribution(it.toLong()) }
        last = listOfNotNull(score("iid", iid), if (ood.isEmpty()) null else score("ood", ood))
        return EvalMetrics(
            variant,
            stage,
            step,
            validationLoss = null,
            accuracy =
                last.flatMap {
                    listOf(
                        AccuracyCell(ChatEvaluator.FORMAT, 0, it.split, it.wellFormed, it.total),
                        AccuracyCell(ChatEvaluator.ANSWER, 0, it.split, it.correct, it.total),
                    )
                },
            notes =
                last.map {
                    "held-out ${it.split}: answer format ${it.wellFormed}/${it.total}, correct ${it.correct}/${it.total}"
                },
        )
    }

    private fun score(split: String, conversations: List<Conversation>): ChatScore {
        val answers =
            generator.generate(
                conversations.map(template::prompt),
                SamplingConfig.greedy(maxNewTokens, tokenizer.eos),
            )
        val scores =
            answers.mapIndexed { i, a ->
                verifier.score(tokenizer.decode(a), conversations[i].answer.orEmpty(), a.size)
            }
        return ChatScore(
            split,
            scores.count { it.correct },
            scores.count { it.wellFormed },
            scores.size,
        )
    }
}
