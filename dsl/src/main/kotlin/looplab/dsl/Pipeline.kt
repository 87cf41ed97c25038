package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** The ordered stages every model variant goes through. */
@Serializable public data class PipelineSpec(val stages: List<StageSpec>)

/** One stage of a pipeline, named by a unique [id] that later stages refer to. */
@Serializable
public sealed interface StageSpec {
    public val id: String
}

/** A stage whose output is trained weights, which later stages may start from or evaluate. */
@Serializable public sealed interface ModelStageSpec : StageSpec

/**
 * Pretraining on the experiment's data: from random initialisation, or, with [from], continuing the
 * weights an earlier training stage produced (its batches then continue after that stage's last
 * one).
 */
@Serializable
@SerialName("pretrain")
public data class PretrainSpec(
    override val id: String,
    val budget: Budget,
    /** Sequences per optimizer step. */
    val batchSize: Int = 32,
    /**
     * The step's batch runs as this many micro-batches (gradient accumulation), each of `batchSize
     * / microBatches` sequences: less memory, the same update.
     */
    val microBatches: Int = 1,
    val lr: LrSchedule = CosineLr(3e-4),
    val optimizer: OptimizerSpec = AdamW(),
    /**
     * Learning-rate multipliers by parameter role (e.g. adapters faster than the rest); a role not
     * named gets 1.
     */
    val lrMultipliers: Map<ParamRole, Double> = emptyMap(),
    /** Global gradient-norm clipping threshold; null disables clipping. */
    val clipNorm: Double? = 1.0,
    /** Evaluate (held-out loss and accuracy) this often, and at the end; null: only at the end. */
    val evalEvery: Steps? = null,
    /** Samples per task and length in the periodic evaluations (the eval stage sets its own). */
    val evalSamples: Int = 32,
    /** Write a metrics line this often. */
    val logEvery: Steps = Steps(10),
    /** The id of an earlier training stage whose weights this one continues; null: from scratch. */
    val from: String? = null,
    /** When to save a checkpoint besides the evaluation points and the end of the stage. */
    val checkpoint: CheckpointPolicy = CheckpointPolicy(),
    /**
     * A NaN or infinite loss or gradient stops the variant, or skips the step and lowers the
     * learning rate.
     */
    val onNonFinite: OnNonFinite = StopOnNonFinite,
) : ModelStageSpec

/**
 * Checkpoints are saved at every evaluation point, at the end of a stage, on Ctrl-C or SIGTERM, and
 * also every [every] steps or [minutes] of training, whichever comes first (null: not on that
 * clock).
 */
@Serializable
public data class CheckpointPolicy(val every: Steps? = null, val minutes: Double? = 10.0)

/** Measures the weights produced by stage [from]. */
@Serializable
@SerialName("eval")
public data class EvalSpec(
    override val id: String,
    /** The id of an earlier stage that produced weights. */
    val from: String,
    val algorithmic: AlgorithmicEvalSpec? = AlgorithmicEvalSpec(),
    /**
     * Held-out perplexity and bits per byte on the language data's validation documents; null: not
     * measured.
     */
    val language: LanguageEvalSpec? = null,
    /** Needle-in-a-haystack retrieval over lengths and depths; null: not measured. */
    val needles: NeedleEvalSpec? = null,
    /**
     * Per-loop readout, early-exit curve and depth extrapolation of looped models; null: not
     * measured.
     */
    val loops: LoopEvalSpec? = null,
    /** Answers to held-out chat questions (format and exact answer); null: not measured. */
    val chat: ChatEvalSpec? = null,
) : StageSpec

/**
 * A chat model's held-out answers, greedy: the rate of well-formed answers (one closed answer
 * block, then the end token) and of exactly right ones, in and out of distribution. [data] null:
 * the conversations of the nearest SFT or GRPO stage the evaluated weights come from (its held-out
 * seeds), so a pipeline's stages are measured on the same questions.
 */
@Serializable
public data class ChatEvalSpec(
    /** Conversations per split (in and out of distribution). */
    val samples: Int = 100,
    val data: ChatDataSpec? = null,
)

/**
 * Perplexity and bits per byte on held-out documents in sliding windows of the training sequence
 * length: each token is scored once, with at least `window − stride` tokens of context once past
 * the start. A null [stride] is the window itself (consecutive windows).
 */
@Serializable
public data class LanguageEvalSpec(
    /**
     * At most this many held-out tokens are scored (the whole validation split if it is smaller).
     */
    val maxTokens: Int = 65_536,
    /** Tokens each window moves on; null: the window length (non-overlapping windows). */
    val stride: Int? = null,
)

/**
 * Needle in a haystack: a random code of [digits] digits is put at each depth (0 = start, 1 = just
 * before the question) into filler text of [corpus], and must be returned exactly after the
 * question at the end. Lengths are prompt tokens; a length past the model's context is reported so.
 */
@Serializable
public data class NeedleEvalSpec(
    val lengths: List<Int> = listOf(1_024, 2_048, 4_096),
    val depths: List<Double> = listOf(0.0, 0.25, 0.5, 0.75, 1.0),
    /** Problems per (length, depth) cell. */
    val samples: Int = 10,
    val digits: Int = 5,
    val corpus: CorpusSpec = AustenCorpus,
)

/**
 * Looped models read out after every loop, run at every depth up to the trained one (the early-exit
 * curve) and at 1× to [multiples]× the trained loops (depth extrapolation).
 */
@Serializable
public data class LoopEvalSpec(
    /** Algorithmic problems per task and length. */
    val samples: Int = 32,
    val multiples: Int = 4,
    /** Held-out language tokens scored per depth, when the experiment has language data. */
    val maxTokens: Int = 8_192,
)

/**
 * Exact-match accuracy with greedy decoding, per task, on the training lengths (in distribution)
 * and on the task's out-of-distribution grid.
 */
@Serializable
public data class AlgorithmicEvalSpec(
    /** Samples per task and length. */
    val samples: Int = 100,
    /** Generation stops at end-of-sequence or after this many tokens, whichever comes first. */
    val maxNewTokens: Int = 24,
)

/**
 * A typed handle on a stage that produced weights; only these can be trained further or evaluated.
 */
public class ModelRef internal constructor(public val id: String) {
    override fun toString(): String = "ModelRef($id)"
}

/** A typed handle on an evaluation stage. */
public class EvalRef internal constructor(public val id: String) {
    override fun toString(): String = "EvalRef($id)"
}

/** Builds a [PipelineSpec]; each stage function returns a typed reference for later stages. */
@LooplabDsl
public class PipelineBuilder internal constructor() {
    private val stages = mutableListOf<StageSpec>()

    /**
     * Pretrains every model variant: from scratch, or, given [from], continuing the weights that
     * stage produced (a stage without `from` never inherits weights from the one before it).
     *
     * ```
     * val base = pretrain { budget = 2_000.steps; lr = cosine(3e-3, warmup = 100.steps) }
     * val more = pretrain(from = base) { budget = 1_000.steps; lr = constant(3e-4) }
     * ```
     */
    public fun pretrain(
        id: String = uniqueId("pretrain"),
        from: ModelRef? = null,
        block: PretrainBuilder.() -> Unit,
    ): ModelRef {
        stages += PretrainBuilder(id).apply(block).build().copy(from = from?.id)
        return ModelRef(id)
    }

    /** Continues the weights of [from]: `pretrain(base) { ... }`. */
    public fun pretrain(from: ModelRef, block: PretrainBuilder.() -> Unit): ModelRef =
        pretrain(uniqueId("pretrain"), from, block)

    /** Evaluates the weights of stage [model]. */
    public fun eval(
        model: ModelRef,
        id: String = uniqueId("eval"),
        block: EvalBuilder.() -> Unit = {},
    ): EvalRef {
        stages += EvalBuilder(id, model.id).apply(block).build()
        return EvalRef(id)
    }

    /** Appends [stage]: how stage functions defined outside this class (sft, grpo) add theirs. */
    internal fun add(stage: StageSpec) {
        stages += stage
    }

    internal fun uniqueId(base: String): String {
        val taken = stages.map { it.id }.toSet()
        return if (base !in taken) base
        else generateSequence(2) { it + 1 }.map { "$base-$it" }.first { it !in taken }
    }

    internal fun build(): PipelineSpec = PipelineSpec(stages.toList())
}

/** Builds a [PretrainSpec]; every default is the spec's own. */
@LooplabDsl
public class PretrainBuilder internal constructor(private val id: String) {
    // The held spec's budget is never used: build() takes the one set here, and there is no
    // default.
    private var spec = PretrainSpec(id, budget = Steps(1))
    private var setBudget: Budget? = null

    /** How long to train: `2_000.steps` or `10.M.tokens`. Required. */
    public var budget: Budget
        get() = setBudget ?: throw missingBudget(id, "2_000.steps or 10.M.tokens")
        set(value) {
            setBudget = value
        }

    public var batchSize: Int by spec(PretrainSpec::batchSize) { s, v -> s.copy(batchSize = v) }
    public var microBatches: Int by
        spec(PretrainSpec::microBatches) { s, v -> s.copy(microBatches = v) }
    public var lr: LrSchedule by spec(PretrainSpec::lr) { s, v -> s.copy(lr = v) }
    public var optimizer: OptimizerSpec by
        spec(PretrainSpec::optimizer) { s, v -> s.copy(optimizer = v) }
    public var lrMultipliers: Map<ParamRole, Double> by
        spec(PretrainSpec::lrMultipliers) { s, v -> s.copy(lrMultipliers = v) }
    public var clipNorm: Double? by spec(PretrainSpec::clipNorm) { s, v -> s.copy(clipNorm = v) }
    public var evalEvery: Steps? by spec(PretrainSpec::evalEvery) { s, v -> s.copy(evalEvery = v) }
    public var evalSamples: Int by
        spec(PretrainSpec::evalSamples) { s, v -> s.copy(evalSamples = v) }
    public var logEvery: Steps by spec(PretrainSpec::logEvery) { s, v -> s.copy(logEvery = v) }

    /**
     * `StopOnNonFinite` (default), or `SkipNonFinite(maxSkips = 3, lrFactor = 0.5)`: skip such
     * steps, lowering the learning rate each time.
     */
    public var onNonFinite: OnNonFinite by
        spec(PretrainSpec::onNonFinite) { s, v -> s.copy(onNonFinite = v) }

    /**
     * Save a checkpoint every [every] steps and every [minutes] of training (null: not on that
     * clock).
     */
    public fun checkpoint(
        every: Steps? = DEFAULT_CHECKPOINT.every,
        minutes: Double? = DEFAULT_CHECKPOINT.minutes,
    ) {
        spec = spec.copy(checkpoint = CheckpointPolicy(every, minutes))
    }

    internal fun build(): PretrainSpec = spec.copy(budget = budget)

    private fun <T> spec(read: (PretrainSpec) -> T, write: (PretrainSpec, T) -> PretrainSpec) =
        SpecField({ spec }, { spec = it }, read, write)
}

/** Builds an [EvalSpec]; every default is the spec's own. */
@LooplabDsl
public class EvalBuilder internal constructor(id: String, from: String) {
    // Nothing measured until a suite is named; build() falls back to the spec's own choice.
    private var spec = EvalSpec(id, from, algorithmic = null)

    /**
     * Greedy exact-match accuracy per task, in and out of distribution; see [AlgorithmicEvalSpec].
     */
    public fun algorithmic(
        samples: Int = ALGORITHMIC.samples,
        maxNewTokens: Int = ALGORITHMIC.maxNewTokens,
    ) {
        spec = spec.copy(algorithmic = AlgorithmicEvalSpec(samples, maxNewTokens))
    }

    /**
     * Held-out perplexity and bits per byte of the language data in sliding windows moving [stride]
     * tokens (null: non-overlapping), beside gzip and xz on the same text.
     */
    public fun perplexity(maxTokens: Int = LANGUAGE.maxTokens, stride: Int? = LANGUAGE.stride) {
        spec = spec.copy(language = LanguageEvalSpec(maxTokens, stride))
    }

    /**
     * Needle-in-a-haystack retrieval: exact match of a code put at each depth of filler text of
     * each length.
     */
    public fun needles(
        lengths: List<Int> = NEEDLES.lengths,
        depths: List<Double> = NEEDLES.depths,
        samples: Int = NEEDLES.samples,
        digits: Int = NEEDLES.digits,
        corpus: CorpusSpec = NEEDLES.corpus,
    ) {
        spec = spec.copy(needles = NeedleEvalSpec(lengths, depths, samples, digits, corpus))
    }

    /**
     * Per-loop readout, early-exit curve and depth extrapolation to [multiples]× the trained loops.
     */
    public fun loops(
        samples: Int = LOOPS.samples,
        multiples: Int = LOOPS.multiples,
        maxTokens: Int = LOOPS.maxTokens,
    ) {
        spec = spec.copy(loops = LoopEvalSpec(samples, multiples, maxTokens))
    }

    /**
     * Held-out chat answers: answer-format rate and exact accuracy, in and out of distribution (see
     * [ChatEvalSpec]); without [data], the questions of the SFT or GRPO stage the weights come
     * from.
     */
    @JvmOverloads
    public fun chat(samples: Int = CHAT.samples, data: (ChatDataBuilder.() -> Unit)? = null) {
        spec =
            spec.copy(
                chat = ChatEvalSpec(samples, data?.let { ChatDataBuilder().apply(it).build() })
            )
    }

    // With nothing named, the spec's own suite (the algorithmic grid) is measured.
    internal fun build(): EvalSpec =
        with(spec) {
            if (
                language == null &&
                    needles == null &&
                    loops == null &&
                    algorithmic == null &&
                    chat == null
            )
                copy(algorithmic = EvalSpec(id, from).algorithmic)
            else this
        }

    private companion object {
        // The specs hold the defaults; the builder's parameters read them from there.
        val ALGORITHMIC = AlgorithmicEvalSpec()
        val LANGUAGE = LanguageEvalSpec()
        val NEEDLES = NeedleEvalSpec()
        val LOOPS = LoopEvalSpec()
        val CHAT = ChatEvalSpec()
    }
}

/**
 * A training stage built without its budget: an error at the budget's path, as validation reports
 * it.
 */
internal fun missingBudget(stage: String, example: String): InvalidSpecException =
    InvalidSpecException(
        listOf(SpecError("pipeline.$stage.budget", "is required (e.g. budget = $example)"))
    )

/** [CheckpointPolicy]'s defaults, for builder parameters that read them. */
private val DEFAULT_CHECKPOINT = CheckpointPolicy()
