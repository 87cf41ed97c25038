package looplab.pipelines.sft

import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.train.Evaluation

/**
 * An SFT stage's evaluation every [every] steps and at its end: the held-out loss on the chat mask,
 * then the answer-format rate and held-out accuracy ([ChatEvaluator]). [prepare] runs first (with
 * adapters: merges them into the weights the decoder reads).
 */
public class SftEvaluation(
    private val variant: String,
    private val stage: String,
    private val every: Long?,
    private val samples: Int,
    private val validationLoss: () -> Double,
    private val chat: ChatEvaluator,
    private val prepare: () -> Unit = {},
) : Evaluation {
    override fun due(step: Long): Boolean = every != null && step % every == 0L

    override fun evaluate(step: Long): EvalMetrics {
        val loss = validationLoss()
        prepare()
        return EvalMetrics(variant, stage, step, loss, chat.evaluate(samples))
    }
}
