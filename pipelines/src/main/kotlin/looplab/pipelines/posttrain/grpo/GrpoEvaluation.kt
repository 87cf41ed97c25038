package looplab.pipelines.posttrain.grpo

import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.text.Tokenizer
import looplab.models.decode.Generator
import looplab.models.decode.SamplingConfig
import looplab.pipelines.eval.Completer
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.sft.ChatEvaluator
import looplab.pipelines.train.Evaluation

/**
 * Held-out evaluation of a GRPO stage: greedy, KV-cached answers to [samples] held-out prompts (in
 * distribution) and as many out of distribution, scored as an SFT stage and the `chat` eval suite
 * score them ([ChatEvaluator]: tasks `format` and `answer`), so the three line up number for number
 * on the same weights.
 */
internal class GrpoEvaluation(
    private val variant: String,
    private val stage: String,
    private val every: Long?,
    generator: Generator,
    tokenizer: Tokenizer,
    prompts: ChatMixture,
    private val samples: Int,
    contextLength: Int,
) : Evaluation {
    private val chat =
        ChatEvaluator(
            prompts,
            ChatTemplate(tokenizer),
            tokenizer,
            Completer { p, n -> generator.generate(p, SamplingConfig.greedy(n, tokenizer.eos)) },
            contextLength,
        )

    override fun due(step: Long): Boolean = every != null && step % every == 0L

    override fun evaluate(step: Long): EvalMetrics =
        EvalMetrics(variant, stage, step, validationLoss = null, accuracy = chat.evaluate(samples))
}
