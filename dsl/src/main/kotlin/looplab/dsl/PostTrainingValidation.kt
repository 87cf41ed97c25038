package looplab.dsl

/** Errors of an SFT stage's own fields (what needs no other stage and no model). */
internal fun validateSft(stage: SftSpec, check: SpecChecker) {
    when (val budget = stage.budget) {
        is Steps -> check.at("budget").atLeast("steps", budget.steps, 1)
        is Tokens -> check.at("budget").atLeast("tokens", budget.tokens, 1)
    }
    check.atLeast("batchSize", stage.batchSize, 1)
    validateOptimisation(stage.lr, stage.optimizer, stage.clipNorm, check)
    validateChatData(stage.data, check.at("data"))
    stage.adapters?.let { validateAdapters(it, check.at("adapters")) }
    stage.evalEvery?.let { check.at("evalEvery").atLeast("steps", it.steps, 1) }
    check.atLeast("evalSamples", stage.evalSamples, 1)
    check.at("logEvery").atLeast("steps", stage.logEvery.steps, 1)
}

/** Errors of a GRPO stage's own fields. */
internal fun validateGrpo(stage: GrpoSpec, check: SpecChecker) {
    check.at("budget").atLeast("steps", stage.budget.steps, 1)
    check.atLeast("promptsPerStep", stage.promptsPerStep, 1)
    // One completion per prompt has no group to be relative to: every advantage would be 0.
    check.atLeast("groupSize", stage.groupSize, 2)
    check.atLeast("updatesPerBatch", stage.updatesPerBatch, 1)
    check.require("epsilon", stage.epsilon > 0.0 && stage.epsilon < 1.0) {
        "must be within (0, 1), was ${stage.epsilon}"
    }
    check.require("beta", stage.beta >= 0.0 && stage.beta.isFinite()) {
        "must be ≥ 0, was ${stage.beta}"
    }
    check.require("temperature", stage.temperature > 0.0 && stage.temperature.isFinite()) {
        "must be > 0, was ${stage.temperature}"
    }
    check.atLeast("maxNewTokens", stage.maxNewTokens, 1)
    val reward = check.at("reward")
    reward.require("correct", stage.reward.correct > 0.0) {
        "must be > 0 (it is what the stage optimises), was ${stage.reward.correct}"
    }
    reward.require("format", stage.reward.format >= 0.0) {
        "must be ≥ 0, was ${stage.reward.format}"
    }
    stage.reward.maxTokens?.let { reward.atLeast("maxTokens", it, 1) }
    validateOptimisation(stage.lr, stage.optimizer, stage.clipNorm, check)
    validateChatData(stage.prompts, check.at("prompts"))
    stage.evalQuestions?.let { validateChatData(it, check.at("evalQuestions")) }
    stage.evalEvery?.let { check.at("evalEvery").atLeast("steps", it.steps, 1) }
    check.atLeast("evalSamples", stage.evalSamples, 1)
    check.at("logEvery").atLeast("steps", stage.logEvery.steps, 1)
}

private fun validateChatData(data: ChatDataSpec, check: SpecChecker) {
    check.require("sources", data.sources.isNotEmpty()) {
        "name at least one source, e.g. wordProblems()"
    }
    data.sources.forEachIndexed { i, source ->
        val at = check.at("sources[$i]")
        at.require("weight", source.weight > 0.0 && source.weight.isFinite()) {
            "must be > 0, was ${source.weight}"
        }
        when (source) {
            is ChatJsonl ->
                at.require("path", source.path.isNotBlank()) { "must name a JSONL file" }
            is TaskQuestions ->
                at.require("tasks", source.tasks.isNotEmpty()) { "name at least one task" }
            is CustomChat ->
                at.require("id", source.id.isNotBlank()) { "must name a registered generator" }
            is WordProblems -> {}
        }
    }
    check.atLeast("heldOutEvery", data.heldOutEvery, 2)
}

private fun validateAdapters(hra: HraSpec, check: SpecChecker) {
    check.atLeast("rank", hra.rank, 1)
    check.require("targets", hra.targets.isNotEmpty()) { "name at least one linear layer to adapt" }
    check.require("targets", hra.targets.toSet().size == hra.targets.size) {
        "names a layer twice: ${hra.targets}"
    }
    check.require("initStd", hra.initStd > 0.0 && hra.initStd.isFinite()) {
        "must be > 0 (A starts random, B at zero), was ${hra.initStd}"
    }
    check.require("lrMultiplier", hra.lrMultiplier > 0.0 && hra.lrMultiplier.isFinite()) {
        "must be > 0, was ${hra.lrMultiplier}"
    }
}

/**
 * The checks of post-training stages that need the models or the stages before them: adapters must
 * fit every model's matrices, packing needs models whose only mixing across positions is attention,
 * and training only adapters needs adapters on the way from the stage's source.
 */
internal fun validatePostTraining(spec: ExperimentSpec, check: SpecChecker) {
    for (stage in spec.pipeline.stages) {
        val at = check.at(stage.id)
        when (stage) {
            is SftSpec -> {
                stage.adapters?.let { hra ->
                    spec.models.forEach { checkAdaptersFit(hra, it, at.at("adapters")) }
                }
                if (stage.packing)
                    spec.models.forEach { model ->
                        model.packingConflict()?.let { why ->
                            at.require("packing", false) {
                                "model[${model.name}] $why, so packed conversations would not be independent; use packing = false"
                            }
                        }
                    }
            }
            is GrpoSpec ->
                if (stage.adaptersOnly) {
                    at.require("adaptersOnly", spec.pipeline.adaptersBehind(stage.from) != null) {
                        "no stage before it (from \"${stage.from}\" back) adds adapters: add adapters(rank = ...) to an sft stage"
                    }
                }
            else -> {}
        }
    }
}

/**
 * The HRA adapters of the nearest SFT stage behind stage [id] (itself, or a stage it continues
 * through `from`), or null when none added adapters: what a GRPO stage that trains only adapters
 * puts around the weights it starts from.
 */
public fun PipelineSpec.adaptersBehind(id: String): HraSpec? {
    val byId = stages.associateBy { it.id }
    val seen = mutableSetOf<String>()
    var current = byId[id]
    while (current != null && seen.add(current.id)) {
        if (current is SftSpec && current.adapters != null) return current.adapters
        current =
            when (current) {
                is SftSpec -> byId[current.from]
                is GrpoSpec -> byId[current.from]
                else -> null
            }
    }
    return null
}

private fun checkAdaptersFit(hra: HraSpec, model: ModelSpec, check: SpecChecker) {
    for (target in hra.targets) {
        val shape = adaptedShape(target, model)
        if (shape == null) {
            check.require("targets", false) {
                "model[${model.name}] has no $target matrix (${whyMissing(target, model)})"
            }
            continue
        }
        val narrowest = minOf(shape.first, shape.second)
        check.require("rank", hra.rank <= narrowest) {
            "must be ≤ $narrowest for model[${model.name}] (its ${target.leaf} is ${shape.first}×${shape.second}), was ${hra.rank}"
        }
    }
}

/** [in, out] of a block's [target] matrix in [model], or null where the model has none. */
private fun adaptedShape(target: AdapterTarget, model: ModelSpec): Pair<Int, Int>? {
    val r = model.recursive
    val attention = r.mixer.hasAttention
    val denseFfn = r.moe == null || r.moe.keepDense
    val hidden = model.resolvedFfnHidden
    return when (target) {
        AdapterTarget.Query -> if (attention) model.width to model.width else null
        AdapterTarget.Key ->
            if (attention && r.keyRank == null) model.width to model.kvWidth else null
        AdapterTarget.Value -> if (attention) model.width to model.kvWidth else null
        AdapterTarget.Output -> if (attention) model.width to model.width else null
        AdapterTarget.Gate,
        AdapterTarget.Up -> if (denseFfn) model.width to hidden else null
        AdapterTarget.Down -> if (denseFfn) hidden to model.width else null
    }
}

private fun whyMissing(target: AdapterTarget, model: ModelSpec): String =
    when (target) {
        AdapterTarget.Key ->
            if (model.recursive.keyRank != null) "its keys are low-rank"
            else "its blocks have no attention"
        AdapterTarget.Query,
        AdapterTarget.Value,
        AdapterTarget.Output -> "its blocks have no attention"
        AdapterTarget.Gate,
        AdapterTarget.Up,
        AdapterTarget.Down -> "its blocks have a MoE and no dense FFN"
    }

/**
 * Why this model cannot keep packed documents apart (it mixes positions other than through
 * attention, or by absolute position), or null if it can.
 */
public fun ModelSpec.packingConflict(): String? {
    val model = this
    val r = model.recursive
    return when {
        model.positions == LearnedPositions ->
            "has learned absolute positions (a conversation's positions would depend on what precedes it)"
        r.mixer is SsmMixer -> "has an SSM, whose state runs across the whole row"
        r.conv != null -> "has a convolution in its FFN, which reads across conversation boundaries"
        model.embedding.refine != null ->
            "refines embeddings by convolution, which reads across conversation boundaries"
        r.moe != null -> "has a MoE, whose expert capacity is shared by every position of a group"
        model.memory != null -> "has memory tokens"
        model.latent != null -> "has latent thoughts, which attend across the row"
        model.attentionWindow != null -> "has a sliding attention window"
        else -> null
    }
}
