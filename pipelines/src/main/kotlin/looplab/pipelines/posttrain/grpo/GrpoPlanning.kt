package looplab.pipelines.posttrain.grpo

import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatSources
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.chat.ChatTemplateException
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.ChatDataSpec
import looplab.dsl.ExperimentSpec
import looplab.dsl.GrpoSpec
import looplab.dsl.InvalidSpecException
import looplab.dsl.SpecChecker
import looplab.pipelines.plan.ResolvedData
import looplab.pipelines.plan.StagePlan

/** What the planner checks and records of a GRPO stage. */
internal object GrpoPlanning {
    /** Prompts sampled to check that generation fits the context. */
    private const val CHECKED_PROMPTS = 64

    fun plan(
        stage: GrpoSpec,
        spec: ExperimentSpec,
        data: ResolvedData,
        check: SpecChecker,
    ): StagePlan {
        val template =
            try {
                ChatTemplate(data.tokenizer)
            } catch (e: ChatTemplateException) {
                check.require("prompts", false) { e.message!! }
                null
            }
        val mixture =
            ChatSources.resolve(stage.prompts, spec.seed, data.registry, check.at("prompts"))
        // Checked now, as the prompts are, rather than after the training before the stage.
        stage.evalQuestions?.let {
            ChatSources.resolve(it, spec.seed, data.registry, check.at("evalQuestions"))
        }
        if (template != null && mixture != null) {
            val samples = (0 until CHECKED_PROMPTS).map { mixture.train(it.toLong()) }
            check.require("prompts", samples.all { it.answer != null }) {
                "every prompt needs a reference answer (the last assistant turn's answer), which the verifier compares"
            }
            val longest = samples.maxOf { template.prompt(it).size } + stage.maxNewTokens
            spec.models.forEach { model ->
                check.require("maxNewTokens", longest <= model.contextLength) {
                    "a prompt of up to ${longest - stage.maxNewTokens} tokens plus ${stage.maxNewTokens} new ones exceeds model[${model.name}]'s context of ${model.contextLength}"
                }
            }
        }
        return StagePlan(
            id = stage.id,
            kind = "grpo",
            from = stage.from,
            steps = stage.budget.steps * stage.updatesPerBatch,
            batchSize = stage.promptsPerStep * stage.groupSize,
        )
    }

    /** The stage's prompt mixture (its sources were checked when planning). */
    fun prompts(stage: GrpoSpec, seed: Long, registry: TaskRegistry): ChatMixture =
        resolve(stage.prompts, "pipeline.${stage.id}.prompts", seed, registry)

    /** The stage's own evaluation questions; null when it asks its prompts. */
    fun evalQuestions(stage: GrpoSpec, seed: Long, registry: TaskRegistry): ChatMixture? =
        stage.evalQuestions?.let {
            resolve(it, "pipeline.${stage.id}.evalQuestions", seed, registry)
        }

    private fun resolve(
        data: ChatDataSpec,
        path: String,
        seed: Long,
        registry: TaskRegistry,
    ): ChatMixture {
        val check = SpecChecker(path)
        return ChatSources.resolve(data, seed, registry, check)
            ?: throw InvalidSpecException(check.errors)
    }
}
