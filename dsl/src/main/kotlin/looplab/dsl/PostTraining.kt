package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/**
 * Supervised fine-tuning on chat data, continuing the weights of stage [from]: the loss counts only
 * the assistant's tokens (its closing tag and end-of-sequence included), never the system's or the
 * user's. With [adapters], HRA adapters are added around the chosen linear layers first.
 */
@Serializable
@SerialName("sft")
public data class SftSpec(
    override val id: String,
    /** The id of an earlier training stage whose weights this one continues. */
    val from: String,
    val budget: Budget,
    /** Rows per optimizer step (each row holds one conversation, or several when [packing]). */
    val batchSize: Int = 16,
    val lr: LrSchedule = CosineLr(1e-4, warmup = Steps(20)),
    val optimizer: OptimizerSpec = AdamW(),
    val clipNorm: Double? = 1.0,
    val data: ChatDataSpec = ChatDataSpec(),
    /**
     * Several whole conversations per row, attending only within their own (document-causal);
     * false: one per row, padded.
     */
    val packing: Boolean = true,
    val adapters: HraSpec? = null,
    /**
     * Evaluate (held-out loss, answer-format rate, accuracy) this often, and at the end; null: only
     * at the end.
     */
    val evalEvery: Steps? = null,
    /** Held-out conversations per generator in the periodic evaluations. */
    val evalSamples: Int = 32,
    val logEvery: Steps = Steps(10),
) : ModelStageSpec

/**
 * GRPO (DeepSeekMath's group relative policy optimisation) from the weights of stage [from]: per
 * prompt, [groupSize] sampled completions scored by verifiable rewards; advantages normalised
 * within the group; the clipped-ratio objective per token with a k3 KL penalty to the frozen
 * starting model.
 */
@Serializable
@SerialName("grpo")
public data class GrpoSpec(
    override val id: String,
    val from: String,
    /** Generation batches (each followed by [updatesPerBatch] optimizer steps). */
    val budget: Steps,
    /** Prompts per generation batch. */
    val promptsPerStep: Int = 8,
    /** Completions sampled per prompt (G). */
    val groupSize: Int = 16,
    /**
     * Optimizer steps on each generation batch (μ); with 1 the ratio is 1 and clipping never acts.
     */
    val updatesPerBatch: Int = 1,
    /** Clipping range of the probability ratio: [1 − ε, 1 + ε]. */
    val epsilon: Double = 0.2,
    /** Weight of the k3 KL estimate to the frozen starting model (0: no reference pass at all). */
    val beta: Double = 0.04,
    /**
     * Divide advantages by the group's reward std (GRPO); false: only subtract the mean (Dr. GRPO).
     */
    val scaleByStd: Boolean = true,
    val aggregation: LossAggregation = LossAggregation.Token,
    val temperature: Double = 1.0,
    /** Tokens generated at most per completion. */
    val maxNewTokens: Int = 128,
    val reward: RewardSpec = RewardSpec(),
    val lr: LrSchedule = ConstantLr(1e-6),
    val optimizer: OptimizerSpec = AdamW(),
    val clipNorm: Double? = 1.0,
    /** Train only the HRA adapters (the base weights stay as [from] left them). */
    val adaptersOnly: Boolean = false,
    /** Where the prompts come from; their assistant answers are the verifiers' references. */
    val prompts: ChatDataSpec = ChatDataSpec(),
    /**
     * The questions the stage's evaluation asks (their held-out split); null: the prompts'. RL may
     * train on the questions a verifier can teach and be measured on a wider set, e.g. the SFT
     * stage's, so that held-out accuracy reads on through the stages.
     */
    val evalQuestions: ChatDataSpec? = null,
    val evalEvery: Steps? = null,
    val evalSamples: Int = 32,
    val logEvery: Steps = Steps(1),
) : ModelStageSpec

/** How the per-token GRPO objective is averaged. */
@Serializable
public enum class LossAggregation {
    /**
     * Sum over every completion token of the batch ÷ their count: long completions weigh by their
     * length.
     */
    Token,

    /**
     * Each completion's token mean, then the mean over completions (the paper's 1/|o_i|; biased by
     * length).
     */
    Sequence,
}

/**
 * What a completion earns: [correct] when the text strictly inside the single
 * `<|answer|>…<|/answer|>` block equals the reference, plus [format] when the completion is
 * well-formed (exactly one closed answer block, nothing after it); 0 in all when it is longer than
 * [maxTokens] (null: no limit besides generation's own).
 */
@Serializable
public data class RewardSpec(
    val correct: Double = 1.0,
    val format: Double = 0.1,
    val maxTokens: Int? = null,
)

/**
 * HRA adapters: each chosen linear layer computes `x·W + x·A·B`, with A ([in, rank]) normal of
 * [initStd] and B ([rank, out]) zero, so the model starts exactly as it was. Adapters learn at
 * [lrMultiplier] times the stage's learning rate; with [freezeBase] only they train.
 */
@Serializable
public data class HraSpec(
    val rank: Int,
    val targets: List<AdapterTarget> = AdapterTarget.entries.toList(),
    val initStd: Double = 0.02,
    val lrMultiplier: Double = 5.0,
    val freezeBase: Boolean = false,
)

/** The linear layers of a block that an adapter can wrap. */
@Serializable
public enum class AdapterTarget(
    /** The parameter's name inside a block: `attn.wq`, `mlp.up`. */
    public val leaf: String
) {
    Query("attn.wq"),
    Key("attn.wk"),
    Value("attn.wv"),
    Output("attn.wo"),
    Gate("mlp.gate"),
    Up("mlp.up"),
    Down("mlp.down"),
}

/** The conversations a post-training stage trains or draws prompts from, mixed by weight. */
@Serializable
public data class ChatDataSpec(
    val sources: List<ChatSourceSpec> = listOf(WordProblems()),
    /** Within each generator, one in this many seeds is held out for evaluation. */
    val heldOutEvery: Int = 20,
)

/** One source of conversations. */
@Serializable
public sealed interface ChatSourceSpec {
    /** Relative share of this source in the mix. */
    public val weight: Double
}

/** Conversations from a JSONL file, one `{"messages": [...]}` per line. */
@Serializable
@SerialName("jsonl")
public data class ChatJsonl(val path: String, override val weight: Double = 1.0) : ChatSourceSpec

/**
 * Algorithmic tasks posed as questions, answered inside the answer tags (training lengths in
 * distribution).
 */
@Serializable
@SerialName("task_questions")
public data class TaskQuestions(
    val tasks: List<TaskId> = Task.all,
    override val weight: Double = 1.0,
) : ChatSourceSpec

/**
 * Arithmetic word problems from templates, with exact answers; out of distribution: larger numbers.
 */
@Serializable
@SerialName("word_problems")
public data class WordProblems(override val weight: Double = 1.0) : ChatSourceSpec

/** The id of the built-in digit-sum generator (`digitSums()`). */
public const val DIGIT_SUMS: String = "digit_sums"

/**
 * A generator that an experiment script registers under [id] (see the curriculum's ChatGenerator).
 */
@Serializable
@SerialName("generator")
public data class CustomChat(val id: String, override val weight: Double = 1.0) : ChatSourceSpec

/**
 * Fine-tunes the weights of [from] on chat data:
 * ```
 * val base = pretrain { budget = 2_000.steps }
 * val tuned = sft(from = base) { budget = 300.steps; data { wordProblems(); taskQuestions() }; adapters(rank = 16) }
 * ```
 */
public fun PipelineBuilder.sft(
    from: ModelRef,
    id: String = uniqueId("sft"),
    block: SftBuilder.() -> Unit,
): ModelRef {
    add(SftBuilder(id, from.id).apply(block).build())
    return ModelRef(id)
}

/**
 * Reinforces the weights of [from] with GRPO on verifiable rewards:
 * ```
 * val rl = grpo(from = tuned) { budget = 100.steps; groupSize = 16; beta = 0.04 }
 * ```
 */
public fun PipelineBuilder.grpo(
    from: ModelRef,
    id: String = uniqueId("grpo"),
    block: GrpoBuilder.() -> Unit,
): ModelRef {
    add(GrpoBuilder(id, from.id).apply(block).build())
    return ModelRef(id)
}

/**
 * Builds a [ChatDataSpec]; every default is the spec's own (no source named: the spec's sources).
 */
@LooplabDsl
public class ChatDataBuilder internal constructor() {
    private var spec = ChatDataSpec(sources = emptyList())

    /** Every one in [every] seeds of each generator is held out for evaluation. */
    public var heldOutEvery: Int
        get() = spec.heldOutEvery
        set(value) {
            spec = spec.copy(heldOutEvery = value)
        }

    public fun jsonl(path: String, weight: Double = ChatJsonl(path).weight) {
        add(ChatJsonl(path, weight))
    }

    public fun taskQuestions(
        tasks: List<TaskId> = TASK_QUESTIONS.tasks,
        weight: Double = TASK_QUESTIONS.weight,
    ) {
        add(TaskQuestions(tasks, weight))
    }

    public fun wordProblems(weight: Double = WordProblems().weight) {
        add(WordProblems(weight))
    }

    /**
     * `a+b` for single digits a and b (out of distribution: a two-digit b), the built-in generator
     * `digit_sums`.
     */
    public fun digitSums(weight: Double = 1.0) {
        add(CustomChat(DIGIT_SUMS, weight))
    }

    /** A generator registered by the script under [id]. */
    public fun generator(id: String, weight: Double = CustomChat(id).weight) {
        add(CustomChat(id, weight))
    }

    private fun add(source: ChatSourceSpec) {
        spec = spec.copy(sources = spec.sources + source)
    }

    internal fun build(): ChatDataSpec =
        if (spec.sources.isEmpty()) spec.copy(sources = ChatDataSpec().sources) else spec

    private companion object {
        val TASK_QUESTIONS = TaskQuestions()
    }
}

/** Builds an [SftSpec]; every default is the spec's own, and the budget is required. */
@LooplabDsl
public class SftBuilder internal constructor(private val id: String, from: String) {
    // The held spec's budget is never used: build() takes the one set here, and there is no
    // default.
    private var spec = SftSpec(id, from, budget = Steps(1))
    private var setBudget: Budget? = null

    /** How long to train: `300.steps` or `1.M.tokens`. Required. */
    public var budget: Budget
        get() = setBudget ?: throw missingBudget(id, "300.steps or 1.M.tokens")
        set(value) {
            setBudget = value
        }

    public var batchSize: Int by spec(SftSpec::batchSize) { s, v -> s.copy(batchSize = v) }
    public var lr: LrSchedule by spec(SftSpec::lr) { s, v -> s.copy(lr = v) }
    public var optimizer: OptimizerSpec by
        spec(SftSpec::optimizer) { s, v -> s.copy(optimizer = v) }
    public var clipNorm: Double? by spec(SftSpec::clipNorm) { s, v -> s.copy(clipNorm = v) }
    /** Whole conversations packed per row with a document-causal mask; false: one per row. */
    public var packing: Boolean by spec(SftSpec::packing) { s, v -> s.copy(packing = v) }
    public var evalEvery: Steps? by spec(SftSpec::evalEvery) { s, v -> s.copy(evalEvery = v) }
    public var evalSamples: Int by spec(SftSpec::evalSamples) { s, v -> s.copy(evalSamples = v) }
    public var logEvery: Steps by spec(SftSpec::logEvery) { s, v -> s.copy(logEvery = v) }

    public fun data(block: ChatDataBuilder.() -> Unit) {
        spec = spec.copy(data = ChatDataBuilder().apply(block).build())
    }

    /** HRA adapters of [rank] around [targets]; see [HraSpec]. */
    public fun adapters(
        rank: Int,
        targets: List<AdapterTarget> = HraSpec(rank).targets,
        initStd: Double = HraSpec(rank).initStd,
        lrMultiplier: Double = HraSpec(rank).lrMultiplier,
        freezeBase: Boolean = HraSpec(rank).freezeBase,
    ) {
        spec = spec.copy(adapters = HraSpec(rank, targets, initStd, lrMultiplier, freezeBase))
    }

    internal fun build(): SftSpec = spec.copy(budget = budget)

    private fun <T> spec(read: (SftSpec) -> T, write: (SftSpec, T) -> SftSpec) =
        SpecField({ spec }, { spec = it }, read, write)
}

/** Builds a [GrpoSpec]; every default is the spec's own, and the budget is required. */
@LooplabDsl
public class GrpoBuilder internal constructor(private val id: String, from: String) {
    // The held spec's budget is never used: build() takes the one set here, and there is no
    // default.
    private var spec = GrpoSpec(id, from, budget = Steps(1))
    private var setBudget: Steps? = null

    /** Generation batches. Required. */
    public var budget: Steps
        get() = setBudget ?: throw missingBudget(id, "100.steps")
        set(value) {
            setBudget = value
        }

    public var promptsPerStep: Int by
        spec(GrpoSpec::promptsPerStep) { s, v -> s.copy(promptsPerStep = v) }
    public var groupSize: Int by spec(GrpoSpec::groupSize) { s, v -> s.copy(groupSize = v) }
    public var updatesPerBatch: Int by
        spec(GrpoSpec::updatesPerBatch) { s, v -> s.copy(updatesPerBatch = v) }
    public var epsilon: Double by spec(GrpoSpec::epsilon) { s, v -> s.copy(epsilon = v) }
    public var beta: Double by spec(GrpoSpec::beta) { s, v -> s.copy(beta = v) }
    public var scaleByStd: Boolean by spec(GrpoSpec::scaleByStd) { s, v -> s.copy(scaleByStd = v) }
    public var aggregation: LossAggregation by
        spec(GrpoSpec::aggregation) { s, v -> s.copy(aggregation = v) }
    public var temperature: Double by
        spec(GrpoSpec::temperature) { s, v -> s.copy(temperature = v) }
    public var maxNewTokens: Int by
        spec(GrpoSpec::maxNewTokens) { s, v -> s.copy(maxNewTokens = v) }
    public var reward: RewardSpec by spec(GrpoSpec::reward) { s, v -> s.copy(reward = v) }
    public var lr: LrSchedule by spec(GrpoSpec::lr) { s, v -> s.copy(lr = v) }
    public var optimizer: OptimizerSpec by
        spec(GrpoSpec::optimizer) { s, v -> s.copy(optimizer = v) }
    public var clipNorm: Double? by spec(GrpoSpec::clipNorm) { s, v -> s.copy(clipNorm = v) }
    public var adaptersOnly: Boolean by
        spec(GrpoSpec::adaptersOnly) { s, v -> s.copy(adaptersOnly = v) }
    public var evalEvery: Steps? by spec(GrpoSpec::evalEvery) { s, v -> s.copy(evalEvery = v) }
    public var evalSamples: Int by spec(GrpoSpec::evalSamples) { s, v -> s.copy(evalSamples = v) }
    public var logEvery: Steps by spec(GrpoSpec::logEvery) { s, v -> s.copy(logEvery = v) }

    public fun prompts(block: ChatDataBuilder.() -> Unit) {
        spec = spec.copy(prompts = ChatDataBuilder().apply(block).build())
    }

    /** The questions the stage's evaluation asks; without this block, the prompts'. */
    public fun evalQuestions(block: ChatDataBuilder.() -> Unit) {
        spec = spec.copy(evalQuestions = ChatDataBuilder().apply(block).build())
    }

    /**
     * Rewards: [correct] for the exact answer in the tags, [format] for a well-formed completion,
     * nothing beyond [maxTokens].
     */
    public fun reward(
        correct: Double = REWARD.correct,
        format: Double = REWARD.format,
        maxTokens: Int? = REWARD.maxTokens,
    ) {
        reward = RewardSpec(correct, format, maxTokens)
    }

    internal fun build(): GrpoSpec = spec.copy(budget = budget)

    private fun <T> spec(read: (GrpoSpec) -> T, write: (GrpoSpec, T) -> GrpoSpec) =
        SpecField({ spec }, { spec = it }, read, write)

    private companion object {
        val REWARD = RewardSpec()
    }
}
