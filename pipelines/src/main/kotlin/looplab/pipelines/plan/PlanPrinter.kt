package looplab.pipelines.plan

import java.util.Locale
import looplab.dsl.CheckpointPolicy
import looplab.dsl.ConstantLr
import looplab.dsl.CosineLr
import looplab.dsl.Cpu
import looplab.dsl.EvalSpec
import looplab.dsl.Gpu
import looplab.dsl.GrpoSpec
import looplab.dsl.LinearLr
import looplab.dsl.LrSchedule
import looplab.dsl.PretrainSpec
import looplab.dsl.SftSpec
import looplab.dsl.WsdLr
import looplab.pipelines.sft.SftPlanning

/** Renders a [Plan] for people: what will run, how big it is, what it will cost. */
public object PlanPrinter {
    /** "cosine lr 1.0e-03 → 1.0e-04 after 100 warmup steps" and the like. */
    public fun describe(lr: LrSchedule): String =
        when (lr) {
            is CosineLr ->
                "cosine lr %.1e -> %.1e after %d warmup steps"
                    .format(Locale.ROOT, lr.peak, lr.peak * lr.floor, lr.warmup.steps)
            is ConstantLr ->
                "constant lr %.1e after %d warmup steps"
                    .format(Locale.ROOT, lr.peak, lr.warmup.steps)
            is LinearLr ->
                "linear lr %.1e -> %.1e after %d warmup steps"
                    .format(Locale.ROOT, lr.peak, lr.peak * lr.floor, lr.warmup.steps)
            is WsdLr ->
                "wsd lr %.1e after %d warmup steps, %s decay to %.1e over the last %.0f%%"
                    .format(
                        Locale.ROOT,
                        lr.peak,
                        lr.warmup.steps,
                        lr.shape.name.lowercase(),
                        lr.peak * lr.floor,
                        100 * lr.decayFraction,
                    )
        }

    /** The models table and each model's parts. */
    public fun models(plan: Plan): String = buildString {
        appendLine(
            "Models (FLOPs per token at the context length; effective counts each use of a parameter, a looped block once per loop;"
        )
        appendLine(
            "active: the parameters one token's inference forward uses (MoE: shared + top-k experts; early exit: the loops run), each once, then each use):"
        )
        val models =
            TextTable(
                listOf(
                    "variant",
                    "width",
                    "heads",
                    "ffn",
                    "blocks x loops",
                    "depth",
                    "context",
                    "vocab",
                    "params",
                    "effective",
                    "active",
                    "active eff.",
                    "fwd FLOPs/tok",
                    "train FLOPs/tok",
                )
            )
        plan.models.forEach {
            val heads =
                if (it.kvHeads != it.heads) "${it.heads}x${it.headSize} (${it.kvHeads} kv)"
                else "${it.heads}x${it.headSize}"
            models.row(
                it.name,
                it.width,
                heads,
                it.ffnHidden,
                "${it.blocks} x ${it.loops}",
                it.effectiveDepth,
                it.contextLength,
                if (it.vocabRows > 0) it.vocabRows else plan.vocabSize,
                Format.exact(it.physicalParams),
                Format.count(it.effectiveParams),
                Format.count(it.activeParams),
                Format.count(it.activeEffectiveParams) +
                    if (it.activeLoops < it.loops) " (${it.activeLoops} loops)" else "",
                Format.count(it.forwardFlopsPerToken),
                Format.count(it.trainingFlopsPerToken),
            )
        }
        appendLine(models.render())
        plan.models
            .filter { it.parts.isNotEmpty() }
            .forEach { appendLine("  ${it.name}: ${it.parts.joinToString("; ")}") }
    }

    public fun render(plan: Plan): String = buildString {
        val spec = plan.experiment
        val device =
            when (val d = spec.device) {
                Cpu -> "cpu"
                is Gpu -> "gpu ${d.index}"
            }
        appendLine("Experiment ${spec.name}  (seed ${spec.seed}, device $device)")
        if (plan.overrides.isNotEmpty())
            appendLine("  overridden: ${plan.overrides.joinToString("; ")}")
        appendLine()
        appendLine(
            "Data: tokenizer ${plan.tokenizer}, vocabulary ${plan.vocabSize}" +
                (spec.data.algorithmic?.let {
                    "; algorithmic loss on ${it.loss.name.lowercase()} tokens"
                } ?: "")
        )
        if (plan.data.tasks.isNotEmpty()) {
            val tasks =
                TextTable(
                    listOf(
                        "task",
                        "weight",
                        "train lengths",
                        "out-of-distribution lengths",
                        "chance iid/ood",
                    )
                )
            plan.data.tasks.forEach {
                tasks.row(
                    it.task,
                    it.weight,
                    "${it.train} ${it.lengthUnit}",
                    it.ood.joinToString(", "),
                    "${Format.percent(it.chanceIid)} / ${Format.percent(it.chanceOod)}",
                )
            }
            appendLine(tasks.render())
            appendLine(
                "  examples: longest ${plan.data.longestExample} tokens, mean %.1f"
                    .format(Locale.ROOT, plan.data.meanExample)
            )
        }
        plan.data.language?.let { l ->
            appendLine(
                "  language: ${l.corpus}: ${l.documents} documents, ${l.validationDocuments} held out (${l.split})"
            )
            appendLine(
                "    train ${Format.count(l.trainTokens)} tokens (${Format.bytes(l.trainBytes)}), held out ${Format.count(l.validationTokens)} tokens (${Format.bytes(l.validationBytes)}); gzip -9 on held-out text: %.3f bits/byte"
                    .format(Locale.ROOT, l.gzipBitsPerByte)
            )
            appendLine(
                "    sequences of ${l.sequenceLength} tokens" +
                    l.sequenceSchedule.joinToString("") { (step, len) -> ", $len from step $step" }
            )
        }
        if (plan.data.phases.isNotEmpty()) {
            appendLine("  split curriculum (first pretraining stage):")
            plan.data.phases.forEachIndexed { i, p ->
                val until = if (p.untilStep >= Long.MAX_VALUE / 8) "end" else "step ${p.untilStep}"
                val tokens =
                    if (p.tokens == Long.MAX_VALUE) "the rest of the budget"
                    else "${Format.count(p.tokens)} tokens"
                appendLine(
                    "    ${i + 1}. steps ${p.fromStep} -> $until: $tokens, algorithmic : language = ${p.algorithmic} : ${p.language}" +
                        (if (p.taskWeights.isEmpty()) "" else ", task weights ${p.taskWeights}")
                )
            }
        }
        plan.data.taskCurriculum?.let {
            appendLine("  task curriculum: $it (decides at each evaluation)")
        }
        appendLine()
        append(models(plan))
        appendLine()
        appendLine("Stages (each model variant runs them in order):")
        plan.stages.forEachIndexed { i, stage ->
            when (val s = spec.pipeline.stages.first { it.id == stage.id }) {
                is PretrainSpec -> {
                    val memory =
                        stage.memoryBytes.entries.joinToString(", ") { (m, b) ->
                            "$m ${Format.bytes(b)}"
                        }
                    val start = s.from?.let { "continues $it's weights" } ?: "from scratch"
                    appendLine(
                        "  ${i + 1}. ${s.id} ($start): ${Format.exact(stage.steps!!)} steps x ${s.batchSize} sequences${spec.data.algorithmic?.examplesPerBatch?.let { " (algorithmic batches: ${Format.exact(it.toLong())} examples)" } ?: ""} ≈ ${Format.count(stage.tokens!!)} tokens, ${describe(s.lr)}, ${s.optimizer}"
                    )
                    appendLine(
                        "     est. training memory: $memory; evaluation ${s.evalEvery?.let { "every ${it.steps} steps" } ?: "at the end"}; " +
                            "checkpoints ${checkpoints(s.checkpoint)}"
                    )
                }
                is EvalSpec ->
                    appendLine(
                        "  ${i + 1}. ${s.id}: evaluate ${s.from}" +
                            (s.algorithmic?.let {
                                ": greedy exact match, ${it.samples} samples per task and length, ≤ ${it.maxNewTokens} new tokens"
                            } ?: "") +
                            (s.language?.let {
                                "; held-out perplexity and bits per byte on ≤ ${it.maxTokens} tokens"
                            } ?: "")
                    )
                is SftSpec -> appendLine("  ${i + 1}. ${s.id}: " + SftPlanning.describe(s, stage))
                is GrpoSpec ->
                    appendLine(
                        "  ${i + 1}. ${s.id}: GRPO from ${s.from}: ${s.budget.steps} generation batches x ${s.promptsPerStep} prompts x ${s.groupSize} completions, ${s.updatesPerBatch} update(s) each, β ${s.beta}"
                    )
            }
        }
    }

    private fun checkpoints(policy: CheckpointPolicy): String =
        (listOfNotNull(
                policy.every?.let { "every ${it.steps} steps" },
                policy.minutes?.let {
                    "every ${if (it % 1.0 == 0.0) it.toLong().toString() else it.toString()} min"
                },
            ) + "at evaluations, on Ctrl-C")
            .joinToString(", ")
}
