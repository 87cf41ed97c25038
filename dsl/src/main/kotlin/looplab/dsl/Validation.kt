package looplab.dsl

/** One thing wrong with a spec, at a [path] such as `model[shared_loop].recursive.loops`. */
public data class SpecError(val path: String, val message: String) {
    override fun toString(): String = "$path: $message"
}

/** Thrown when a spec has errors; carries every one of them, not just the first. */
public class InvalidSpecException(public val errors: List<SpecError>) :
    IllegalArgumentException(
        errors.joinToString(
            separator = "\n",
            prefix = "${errors.size} error(s) in the experiment:\n",
        ) {
            "  $it"
        }
    ),
    UserFacingError

/** Collects errors under a path prefix, so checks read as plain statements. */
public class SpecChecker(
    private val path: String = "",
    private val sink: MutableList<SpecError> = mutableListOf(),
) {
    public val errors: List<SpecError>
        get() = sink

    /** Records [message] at `path.field` unless [ok]. */
    public fun require(field: String, ok: Boolean, message: () -> String) {
        if (!ok) sink += SpecError(join(field), message())
    }

    /** Requires [value] ≥ [min], with the standard message. */
    public fun atLeast(field: String, value: Number, min: Number) {
        require(field, value.toDouble() >= min.toDouble()) { "must be ≥ $min, was $value" }
    }

    /**
     * Requires [value] ≤ [max]: sizes past it overflow the plan's counts (or no machine could hold
     * them).
     */
    public fun atMost(field: String, value: Number, max: Number) {
        require(field, value.toDouble() <= max.toDouble()) { "must be ≤ $max, was $value" }
    }

    /** A checker for a nested object. */
    public fun at(field: String): SpecChecker = SpecChecker(join(field), sink)

    private fun join(field: String): String =
        when {
            path.isEmpty() -> field
            field.isEmpty() -> path
            field.startsWith("[") -> "$path$field"
            else -> "$path.$field"
        }
}

/**
 * Every structural error of this spec (what can be checked without the task registry or a
 * tokenizer).
 */
public fun ExperimentSpec.validate(): List<SpecError> {
    val check = SpecChecker()
    check.require("name", name.matches(Regex("[A-Za-z0-9][A-Za-z0-9._-]*"))) {
        "must be letters, digits, '.', '_' or '-' (it names the run folder), was \"$name\""
    }
    if (device is Gpu) check.at("device").atLeast("index", device.index, 0)
    check.require("seeds", seeds.toSet().size == seeds.size) { "each seed once, was $seeds" }
    check.require("precision", precision == Precision.Fp32 || backend == Backend.Compiled) {
        "$precision needs backend = Backend.Compiled: DJL's eager NDArrays have no bf16 and no differentiable casts"
    }
    validateData(data, check.at("data"))
    check.require("models", models.isNotEmpty()) { "declare at least one model { }" }
    models
        .groupBy { it.name }
        .filter { it.value.size > 1 }
        .keys
        .forEach { dup ->
            check.require("model[$dup]", false) {
                "two models are named \"$dup\"; variant names must be unique"
            }
        }
    models.forEach { validateModel(it, check.at("model[${it.name}]")) }
    validatePipeline(pipeline, check.at("pipeline"))
    validatePostTraining(this, check.at("pipeline"))
    validateCurriculumBudget(this, check)
    return check.errors
}

/** Throws [InvalidSpecException] listing every error, or returns the spec unchanged. */
public fun ExperimentSpec.requireValid(): ExperimentSpec {
    val errors = validate()
    if (errors.isNotEmpty()) throw InvalidSpecException(errors)
    return this
}

private fun validatePipeline(pipeline: PipelineSpec, check: SpecChecker) {
    check.require("stages", pipeline.stages.isNotEmpty()) {
        "declare at least one stage, e.g. pretrain { }"
    }
    val earlierModelStages = mutableSetOf<String>()
    val seen = mutableSetOf<String>()
    pipeline.stages.forEach { stage ->
        val at = check.at(stage.id)
        at.require("", seen.add(stage.id)) { "stage id \"${stage.id}\" is used twice" }
        when (stage) {
            is PretrainSpec -> {
                stage.from?.let { requireEarlier(it, earlierModelStages, at) }
                validatePretrain(stage, at)
            }
            is SftSpec -> {
                requireEarlier(stage.from, earlierModelStages, at)
                validateSft(stage, at)
            }
            is GrpoSpec -> {
                requireEarlier(stage.from, earlierModelStages, at)
                validateGrpo(stage, at)
            }
            is EvalSpec -> {
                requireEarlier(stage.from, earlierModelStages, at)
                stage.language?.let {
                    at.at("language").atLeast("maxTokens", it.maxTokens, 2)
                    it.stride?.let { stride -> at.at("language").atLeast("stride", stride, 1) }
                }
                stage.needles?.let { n ->
                    val needles = at.at("needles")
                    needles.require(
                        "lengths",
                        n.lengths.isNotEmpty() && n.lengths.all { it >= 1 },
                    ) {
                        "name at least one length, each ≥ 1, was ${n.lengths}"
                    }
                    needles.require(
                        "depths",
                        n.depths.isNotEmpty() && n.depths.all { it in 0.0..1.0 },
                    ) {
                        "name at least one depth, each within 0..1, was ${n.depths}"
                    }
                    needles.atLeast("samples", n.samples, 1)
                    needles.require("digits", n.digits in 1..18) {
                        "must be within 1..18, was ${n.digits}"
                    }
                }
                stage.loops?.let { l ->
                    at.at("loops").atLeast("samples", l.samples, 1)
                    at.at("loops").atLeast("multiples", l.multiples, 1)
                    at.at("loops").atLeast("maxTokens", l.maxTokens, 2)
                }
                stage.algorithmic?.let {
                    at.at("algorithmic").atLeast("samples", it.samples, 1)
                    at.at("algorithmic").atLeast("maxNewTokens", it.maxNewTokens, 1)
                }
            }
        }
        if (stage is ModelStageSpec) earlierModelStages += stage.id
    }
}

private fun validateOptimizer(optimizer: OptimizerSpec, at: SpecChecker) {
    fun beta(name: String, value: Double) =
        at.require(name, value in 0.0..<1.0) { "must be within [0, 1), was $value" }
    at.atLeast("weightDecay", optimizer.weightDecay, 0)
    when (optimizer) {
        is AdamW -> {
            beta("beta1", optimizer.beta1)
            beta("beta2", optimizer.beta2)
            at.require("eps", optimizer.eps > 0.0) { "must be > 0, was ${optimizer.eps}" }
        }
        is Lion -> {
            beta("beta1", optimizer.beta1)
            beta("beta2", optimizer.beta2)
        }
        is Muon -> {
            at.require("lr", optimizer.lr > 0.0 && optimizer.lr.isFinite()) {
                "must be > 0, was ${optimizer.lr}"
            }
            beta("momentum", optimizer.momentum)
            at.atLeast("steps", optimizer.steps, 1)
            validateOptimizer(optimizer.adamw, at.at("adamw"))
        }
    }
}

/**
 * A stage's `from` names a training stage declared before it: the one check for every kind of
 * stage.
 */
private fun requireEarlier(from: String, earlier: Set<String>, check: SpecChecker) {
    check.require("from", from in earlier) {
        "refers to \"$from\", which is not an earlier training stage" +
            if (earlier.isEmpty()) "" else " (earlier: ${earlier.joinToString()})"
    }
}

private fun validatePretrain(stage: PretrainSpec, check: SpecChecker) {
    when (val budget = stage.budget) {
        is Steps -> check.at("budget").atLeast("steps", budget.steps, 1)
        is Tokens -> check.at("budget").atLeast("tokens", budget.tokens, 1)
    }
    check.atLeast("batchSize", stage.batchSize, 1)
    check.atMost("batchSize", stage.batchSize, 1_048_576)
    check.atLeast("microBatches", stage.microBatches, 1)
    if (stage.microBatches >= 1) {
        check.require("microBatches", stage.batchSize % stage.microBatches == 0) {
            "must divide the batch size ${stage.batchSize}, was ${stage.microBatches}"
        }
    }
    stage.lrMultipliers.forEach { (role, scale) ->
        check.at("lrMultipliers").require(role.name, scale >= 0.0 && scale.isFinite()) {
            "must be ≥ 0, was $scale"
        }
    }
    validateOptimisation(stage.lr, stage.optimizer, stage.clipNorm, check)
    stage.evalEvery?.let { check.at("evalEvery").atLeast("steps", it.steps, 1) }
    check.atLeast("evalSamples", stage.evalSamples, 1)
    check.at("logEvery").atLeast("steps", stage.logEvery.steps, 1)
    (stage.onNonFinite as? SkipNonFinite)?.let { skip ->
        val at = check.at("onNonFinite")
        at.atLeast("maxSkips", skip.maxSkips, 1)
        at.require("lrFactor", skip.lrFactor > 0.0 && skip.lrFactor < 1.0) {
            "must be within (0, 1), was ${skip.lrFactor}"
        }
    }
    stage.checkpoint.every?.let { check.at("checkpoint.every").atLeast("steps", it.steps, 1) }
    stage.checkpoint.minutes?.let {
        check.at("checkpoint").require("minutes", it > 0.0 && it.isFinite()) {
            "must be > 0 (or null for no timed checkpoints), was $it"
        }
    }
}

/** The learning rate, optimizer and clipping of a training stage. */
internal fun validateOptimisation(
    lrSchedule: LrSchedule,
    optimizer: OptimizerSpec,
    clipNorm: Double?,
    check: SpecChecker,
) {
    val lr = check.at("lr")
    lr.require("peak", lrSchedule.peak > 0.0 && lrSchedule.peak.isFinite()) {
        "must be > 0, was ${lrSchedule.peak}"
    }
    when (val schedule = lrSchedule) {
        is CosineLr -> {
            lr.at("warmup").atLeast("steps", schedule.warmup.steps, 0)
            lr.require("floor", schedule.floor in 0.0..1.0) {
                "must be within 0..1, was ${schedule.floor}"
            }
        }
        is ConstantLr -> lr.at("warmup").atLeast("steps", schedule.warmup.steps, 0)
        is LinearLr -> {
            lr.at("warmup").atLeast("steps", schedule.warmup.steps, 0)
            lr.require("floor", schedule.floor in 0.0..1.0) {
                "must be within 0..1, was ${schedule.floor}"
            }
        }
        is WsdLr -> {
            lr.at("warmup").atLeast("steps", schedule.warmup.steps, 0)
            lr.require("decayFraction", schedule.decayFraction in 0.0..1.0) {
                "must be within 0..1, was ${schedule.decayFraction}"
            }
            lr.require("floor", schedule.floor in 0.0..1.0) {
                "must be within 0..1, was ${schedule.floor}"
            }
        }
    }
    validateOptimizer(optimizer, check.at("optimizer"))
    clipNorm?.let {
        check.require("clipNorm", it > 0.0) { "must be > 0 (or null to disable), was $it" }
    }
}
