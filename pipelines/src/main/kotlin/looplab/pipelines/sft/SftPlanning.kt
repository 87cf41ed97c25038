package looplab.pipelines.sft

import kotlin.math.ceil
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.Tokenizer
import looplab.dsl.ExperimentSpec
import looplab.dsl.SftSpec
import looplab.dsl.SpecChecker
import looplab.dsl.Steps
import looplab.dsl.Tokens
import looplab.pipelines.plan.StagePlan

/** Plans an SFT stage: its data resolves and fits every model; a token budget becomes steps. */
public object SftPlanning {
    @JvmStatic
    public fun plan(
        stage: SftSpec,
        spec: ExperimentSpec,
        tokenizer: Tokenizer,
        tasks: TaskRegistry,
        check: SpecChecker,
    ): StagePlan {
        val contexts = spec.models.map { it.contextLength }.distinct()
        // The narrowest context decides what fits; the token estimate is the same for every model.
        val data =
            contexts.minOrNull()?.let {
                SftData.resolve(stage, spec.seed, tokenizer, tasks, it, check)
            }
        val tokensPerStep = data?.let { it.conversationsPerStep * it.meanConversation }
        val steps =
            when (val budget = stage.budget) {
                is Steps -> budget.steps
                is Tokens -> tokensPerStep?.let { ceil(budget.tokens / it).toLong() } ?: 1
            }
        check.at("lr.warmup").require("steps", stage.lr.warmup.steps < steps) {
            "must be shorter than the stage's $steps steps, was ${stage.lr.warmup.steps}"
        }
        return StagePlan(
            id = stage.id,
            kind = "sft",
            from = stage.from,
            steps = steps,
            tokens =
                (stage.budget as? Tokens)?.tokens ?: tokensPerStep?.let { (it * steps).toLong() },
            batchSize = stage.batchSize,
        )
    }

    /**
     * One line for the plan: what is fine-tuned from what, how long, on what, with which adapters.
     */
    @JvmStatic
    public fun describe(stage: SftSpec, plan: StagePlan): String {
        val rows =
            if (stage.packing) "${stage.batchSize} packed rows (document-causal)"
            else "${stage.batchSize} conversations"
        val adapters =
            stage.adapters?.let { a ->
                "; HRA adapters rank ${a.rank} on ${a.targets.joinToString("/") { it.leaf.substringAfter('.') }} at ${a.lrMultiplier}x lr" +
                    if (a.freezeBase) ", base frozen" else ", base trained"
            } ?: "; all weights trained"
        val every = stage.evalEvery?.let { "every ${it.steps} steps and " } ?: ""
        return "supervised fine-tuning of ${stage.from}: ${plan.steps} steps x $rows ≈ ${plan.tokens?.let { looplab.pipelines.plan.Format.count(it) } ?: "?"} tokens, " +
            "loss on assistant tokens only$adapters; answer format and held-out accuracy (iid/ood, ${stage.evalSamples} each) at step 0, ${every}at the end"
    }
}
