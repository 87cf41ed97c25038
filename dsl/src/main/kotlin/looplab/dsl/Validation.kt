package looplab.dsl

/** One thing wrong with a spec, at a [path] such as `model[shared_loop].recursive.loops`. */
public data class SpecError(val path: String, val message: String) {
    override fun toString(): String = "$path: $message"
}

/** Thrown when a spec has errors; carries every one of them, not just the first. */
public class InvalidSpecException(public val errors: List<SpecError>) :
    IllegalArgumentException(errors.joinToString(separator = "\n", prefix = "${errors.size} error(s) in the experiment:\n") { "  $it" }),
    UserFacingError

/** Collects errors under a path prefix, so checks read as plain statements. */
public class SpecChecker(private val path: String = "", private val sink: MutableList<SpecError> = mutableListOf()) {
    public val errors: List<SpecError> get() = sink

    /** Records [message] at `path.field` unless [ok]. */
    public fun require(field: String, ok: Boolean, message: () -> String) {
        if (!ok) sink += SpecError(join(field), message())
    }

    /** Requires [value] ≥ [min], with the standard message. */
    public fun atLeast(field: String, value: Number, min: Number) {
        require(field, value.toDouble() >= min.toDouble()) { "must be ≥ $min, was $value" }
    }

    /** A checker for a nested object. */
    public fun at(field: String): SpecChecker = SpecChecker(join(field), sink)

    private fun join(field: String): String = when {
        path.isEmpty() -> field
        field.isEmpty() -> path
        field.startsWith("[") -> "$path$field"
        else -> "$path.$field"
    }
}

/** Every structural error of this spec (what can be checked without the task registry or a tokenizer). */
public fun ExperimentSpec.validate(): List<SpecError> {
    val check = SpecChecker()
    check.require("name", name.matches(Regex("[A-Za-z0-9][A-Za-z0-9._-]*"))) {
        "must be letters, digits, '.', '_' or '-' (it names the run folder), was \"$name\""
    }
    if (device is Gpu) check.at("device").atLeast("index", device.index, 0)
    check.require("precision", precision == Precision.Fp32 || backend == Backend.Compiled) {
        "$precision needs backend = Backend.Compiled: DJL's eager NDArrays have no bf16 and no differentiable casts"
    }
    validateData(data, check.at("data"))
    check.require("models", models.isNotEmpty()) { "declare at least one model { }" }
    models.groupBy { it.name }.filter { it.value.size > 1 }.keys.forEach { dup ->
        check.require("model[$dup]", false) { "two models are named \"$dup\"; variant names must be unique" }
    }
    models.forEach { validateModel(it, check.at("model[${it.name}]")) }
    validatePipeline(pipeline, check.at("pipeline"))
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
    check.require("stages", pipeline.stages.isNotEmpty()) { "declare at least one stage, e.g. pretrain { }" }
    val earlierModelStages = mutableSetOf<String>()
    val seen = mutableSetOf<String>()
    pipeline.stages.forEach { stage ->
        val at = check.at(stage.id)
        at.require("", seen.add(stage.id)) { "stage id \"${stage.id}\" is used twice" }
        when (stage) {
            is PretrainSpec -> validatePretrain(stage, at)
            is EvalSpec -> {
                at.require("from", stage.from in earlierModelStages) {
                    "refers to \"${stage.from}\", which is not an earlier training stage" +
                        if (earlierModelStages.isEmpty()) "" else " (earlier: ${earlierModelStages.joinToString()})"
                }
                stage.language?.let { at.at("language").atLeast("maxTokens", it.maxTokens, 2) }
                stage.algorithmic?.let {
                    at.at("algorithmic").atLeast("samples", it.samples, 1)
                    at.at("algorithmic").atLeast("maxNewTokens", it.maxNewTokens, 1)
                }
            }
        }
        if (stage is ModelStageSpec) earlierModelStages += stage.id
    }
}

private fun validatePretrain(stage: PretrainSpec, check: SpecChecker) {
    when (val budget = stage.budget) {
        is Steps -> check.at("budget").atLeast("steps", budget.steps, 1)
        is Tokens -> check.at("budget").atLeast("tokens", budget.tokens, 1)
    }
    check.atLeast("batchSize", stage.batchSize, 1)
    val lr = check.at("lr")
    lr.require("peak", stage.lr.peak > 0.0 && stage.lr.peak.isFinite()) { "must be > 0, was ${stage.lr.peak}" }
    when (val schedule = stage.lr) {
        is CosineLr -> {
            lr.at("warmup").atLeast("steps", schedule.warmup.steps, 0)
            lr.require("floor", schedule.floor in 0.0..1.0) { "must be within 0..1, was ${schedule.floor}" }
        }
        is ConstantLr -> lr.at("warmup").atLeast("steps", schedule.warmup.steps, 0)
    }
    when (val opt = stage.optimizer) {
        is AdamW -> {
            val at = check.at("optimizer")
            at.require("beta1", opt.beta1 in 0.0..<1.0) { "must be within [0, 1), was ${opt.beta1}" }
            at.require("beta2", opt.beta2 in 0.0..<1.0) { "must be within [0, 1), was ${opt.beta2}" }
            at.require("eps", opt.eps > 0.0) { "must be > 0, was ${opt.eps}" }
            at.atLeast("weightDecay", opt.weightDecay, 0)
        }
    }
    stage.clipNorm?.let { check.require("clipNorm", it > 0.0) { "must be > 0 (or null to disable), was $it" } }
    (stage.onNonFinite as? SkipNonFinite)?.let { skip ->
        val at = check.at("onNonFinite")
        at.atLeast("maxSkips", skip.maxSkips, 1)
        at.require("lrFactor", skip.lrFactor > 0.0 && skip.lrFactor < 1.0) { "must be within (0, 1), was ${skip.lrFactor}" }
    }
    stage.evalEvery?.let { check.at("evalEvery").atLeast("steps", it.steps, 1) }
    check.atLeast("evalSamples", stage.evalSamples, 1)
    check.at("logEvery").atLeast("steps", stage.logEvery.steps, 1)
}
