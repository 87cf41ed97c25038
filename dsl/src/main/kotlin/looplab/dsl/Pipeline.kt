package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** The ordered stages every model variant goes through. */
@Serializable
public data class PipelineSpec(val stages: List<StageSpec>)

/** One stage of a pipeline, named by a unique [id] that later stages refer to. */
@Serializable
public sealed interface StageSpec {
    public val id: String
}

/** A stage whose output is trained weights, which later stages may start from or evaluate. */
@Serializable
public sealed interface ModelStageSpec : StageSpec

/** Pretraining from random initialisation on the experiment's data. */
@Serializable
@SerialName("pretrain")
public data class PretrainSpec(
    override val id: String,
    val budget: Budget,
    /** Sequences per optimizer step. */
    val batchSize: Int = 32,
    val lr: LrSchedule = CosineLr(3e-4),
    val optimizer: OptimizerSpec = AdamW(),
    /** Global gradient-norm clipping threshold; null disables clipping. */
    val clipNorm: Double? = 1.0,
    /** Evaluate (held-out loss and accuracy) this often, and at the end; null: only at the end. */
    val evalEvery: Steps? = null,
    /** Samples per task and length in the periodic evaluations (the eval stage sets its own). */
    val evalSamples: Int = 32,
    /** Write a metrics line this often. */
    val logEvery: Steps = Steps(10),
    /** A NaN or infinite loss or gradient stops the variant, or skips the step and lowers the learning rate. */
    val onNonFinite: OnNonFinite = StopOnNonFinite,
) : ModelStageSpec

/** Measures the weights produced by stage [from]. */
@Serializable
@SerialName("eval")
public data class EvalSpec(
    override val id: String,
    /** The id of an earlier stage that produced weights. */
    val from: String,
    val algorithmic: AlgorithmicEvalSpec? = AlgorithmicEvalSpec(),
    /** Held-out perplexity and bits per byte on the language data's validation documents; null: not measured. */
    val language: LanguageEvalSpec? = null,
) : StageSpec

/** Perplexity and bits per byte on held-out documents, in windows of the training sequence length. */
@Serializable
public data class LanguageEvalSpec(
    /** At most this many held-out tokens are scored (the whole validation split if it is smaller). */
    val maxTokens: Int = 65_536,
)

/**
 * Exact-match accuracy with greedy decoding, per task, on the training lengths (in distribution) and
 * on the task's out-of-distribution grid.
 */
@Serializable
public data class AlgorithmicEvalSpec(
    /** Samples per task and length. */
    val samples: Int = 100,
    /** Generation stops at end-of-sequence or after this many tokens, whichever comes first. */
    val maxNewTokens: Int = 24,
)

/** A typed handle on a stage that produced weights; only these can be trained further or evaluated. */
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
     * Pretrains every model variant from scratch.
     *
     * ```
     * val base = pretrain { budget = 2_000.steps; lr = cosine(3e-3, warmup = 100.steps) }
     * ```
     */
    public fun pretrain(id: String = uniqueId("pretrain"), block: PretrainBuilder.() -> Unit): ModelRef {
        stages += PretrainBuilder(id).apply(block).build()
        return ModelRef(id)
    }

    /** Evaluates the weights of stage [model]. */
    public fun eval(model: ModelRef, id: String = uniqueId("eval"), block: EvalBuilder.() -> Unit = {}): EvalRef {
        stages += EvalBuilder(id, model.id).apply(block).build()
        return EvalRef(id)
    }

    private fun uniqueId(base: String): String {
        val taken = stages.map { it.id }.toSet()
        return if (base !in taken) base else generateSequence(2) { it + 1 }.map { "$base-$it" }.first { it !in taken }
    }

    internal fun build(): PipelineSpec = PipelineSpec(stages.toList())
}

/** Builds a [PretrainSpec]. */
@LooplabDsl
public class PretrainBuilder internal constructor(private val id: String) {
    /** How long to train: `2_000.steps` or `10.M.tokens`. Required. */
    public var budget: Budget = Steps(0)
    public var batchSize: Int = 32
    public var lr: LrSchedule = CosineLr(3e-4)
    public var optimizer: OptimizerSpec = AdamW()
    public var clipNorm: Double? = 1.0
    public var evalEvery: Steps? = null
    public var evalSamples: Int = 32
    public var logEvery: Steps = Steps(10)

    /** `StopOnNonFinite` (default), or `SkipNonFinite(maxSkips = 3, lrFactor = 0.5)`: skip such steps, lowering the learning rate each time. */
    public var onNonFinite: OnNonFinite = StopOnNonFinite

    internal fun build(): PretrainSpec =
        PretrainSpec(id, budget, batchSize, lr, optimizer, clipNorm, evalEvery, evalSamples, logEvery, onNonFinite)
}

/** Builds an [EvalSpec]. */
@LooplabDsl
public class EvalBuilder internal constructor(private val id: String, private val from: String) {
    private var algorithmic: AlgorithmicEvalSpec? = null
    private var language: LanguageEvalSpec? = null

    /** Greedy exact-match accuracy per task, in and out of distribution. */
    public fun algorithmic(samples: Int = 100, maxNewTokens: Int = 24) {
        algorithmic = AlgorithmicEvalSpec(samples, maxNewTokens)
    }

    /** Held-out perplexity and bits per byte of the language data (compare bits per byte with gzip's and xz's). */
    public fun perplexity(maxTokens: Int = 65_536) {
        language = LanguageEvalSpec(maxTokens)
    }

    // With nothing named, the algorithmic grid is measured, as before perplexity existed.
    internal fun build(): EvalSpec = EvalSpec(id, from, algorithmic ?: if (language == null) AlgorithmicEvalSpec() else null, language)
}
