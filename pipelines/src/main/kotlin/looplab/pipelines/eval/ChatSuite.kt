package looplab.pipelines.eval

import looplab.curriculum.chat.ChatSources
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.chat.ChatTemplateException
import looplab.dsl.ChatDataSpec
import looplab.dsl.ChatEvalSpec
import looplab.dsl.GrpoSpec
import looplab.dsl.PipelineSpec
import looplab.dsl.PretrainSpec
import looplab.dsl.SftSpec
import looplab.dsl.SpecChecker
import looplab.pipelines.metrics.AccuracyCell
import looplab.pipelines.plan.ResolvedData
import looplab.pipelines.sft.ChatEvaluator

/**
 * The `chat` suite: held-out chat questions answered greedily, scored as SFT and GRPO stages score
 * themselves ([ChatEvaluator]: cells `format` and `answer`, `iid` and `ood`), so an eval stage
 * after each post-training stage puts them side by side in `looplab compare`.
 */
internal object ChatSuite {
    /**
     * The conversations [spec] asks about: its own, or those of the nearest SFT (its data) or GRPO
     * (its evaluation's questions, by default its prompts) stage on the way back from stage [from];
     * null when there is none.
     */
    fun data(spec: ChatEvalSpec, pipeline: PipelineSpec, from: String): ChatDataSpec? {
        spec.data?.let {
            return it
        }
        val byId = pipeline.stages.associateBy { it.id }
        var id: String? = from
        val seen = mutableSetOf<String>()
        while (id != null && seen.add(id)) {
            id =
                when (val stage = byId[id]) {
                    is SftSpec -> return stage.data
                    is GrpoSpec -> return stage.evalQuestions ?: stage.prompts
                    is PretrainSpec -> stage.from
                    else -> null
                }
        }
        return null
    }

    /** Measures [samples] held-out conversations per split of [chat] with [completer]. */
    fun measure(
        chat: ChatDataSpec,
        samples: Int,
        seed: Long,
        data: ResolvedData,
        completer: Completer,
        contextLength: Int,
    ): List<AccuracyCell> {
        val check = SpecChecker("eval.chat.data")
        val mixture =
            ChatSources.resolve(chat, seed, data.registry, check)
                ?: throw EvaluationException(check.errors.joinToString("; ") { it.toString() })
        val template =
            try {
                ChatTemplate(data.tokenizer)
            } catch (e: ChatTemplateException) {
                throw EvaluationException("chat suite: ${e.message}")
            }
        return ChatEvaluator(mixture, template, data.tokenizer, completer, contextLength)
            .evaluate(samples)
    }
}
