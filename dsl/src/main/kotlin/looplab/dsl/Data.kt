package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** Where training tokens come from and how text becomes tokens. */
@Serializable
public data class DataSpec(
    val tokenizer: TokenizerSpec = CharTokenizerSpec,
    val algorithmic: AlgorithmicDataSpec? = null,
    val language: LanguageDataSpec? = null,
    /** How the data changes over training; null: the mixture as declared throughout. */
    val curriculum: CurriculumSpec? = null,
)

/** How text is split into token ids. */
@Serializable public sealed interface TokenizerSpec

/**
 * One token per character (printable ASCII plus a few specials): the natural choice for algorithmic
 * tasks.
 */
@Serializable @SerialName("chars") public data object CharTokenizerSpec : TokenizerSpec

/** A mixture of algorithmic tasks, sampled by weight; null lengths take the task's defaults. */
@Serializable
public data class AlgorithmicDataSpec(
    val tasks: List<TaskSpec>,
    /** What the loss is computed on: the answer alone, or every token of the example. */
    val loss: LossScope = LossScope.Answer,
    /** Algorithmic tokens of the split curriculum (trained first); null: no split. */
    val tokens: Long? = null,
    /**
     * Examples in one algorithmic batch; null: the stage's batch size, as for language rows. An
     * example is short (about 9 tokens at the default lengths) and a language row long (hundreds),
     * so a batch of 64 examples leaves a GPU idle where 64 rows of text fill it.
     */
    val examplesPerBatch: Int? = null,
)

/** One task in a mixture. */
@Serializable
public data class TaskSpec(
    val task: TaskId,
    val weight: Double = 1.0,
    /** Lengths drawn during training; null means the task's own default range. */
    val train: LengthRange? = null,
    /** Lengths tested out of distribution; null means the task's own default grid. */
    val ood: List<Int>? = null,
)

/** Which target tokens carry loss. Padding never does. */
@Serializable
public enum class LossScope {
    /**
     * Only the answer and its end-of-sequence token: prompts of random digits are unpredictable
     * noise.
     */
    Answer,

    /** Every token after the first, as in plain language-model pretraining. */
    All,
}

/** Builds a [DataSpec]; every default is the spec's own. */
@LooplabDsl
public class DataBuilder internal constructor() {
    private var spec = DataSpec()

    /** The tokenizer for every stage. */
    public var tokenizer: TokenizerSpec
        get() = spec.tokenizer
        set(value) {
            spec = spec.copy(tokenizer = value)
        }

    /**
     * Trains on a mixture of algorithmic tasks.
     *
     * ```
     * algorithmic { task(Task.Parity, train = 1..8); task(Task.Copy, weight = 0.5) }
     * ```
     */
    public fun algorithmic(block: AlgorithmicBuilder.() -> Unit) {
        spec = spec.copy(algorithmic = AlgorithmicBuilder().apply(block).build())
    }

    /** Trains on an equal mixture of [tasks], each with its default lengths. */
    public fun algorithmic(vararg tasks: TaskId) {
        algorithmic { tasks.forEach { task(it) } }
    }

    /**
     * Trains on an equal mixture of [tasks]; with [tokens], a split curriculum trains on them
     * first, then on the language data: `algorithmic(tasks = Task.all, tokens = 10.M)`.
     */
    public fun algorithmic(
        tasks: List<TaskId> = Task.all,
        tokens: Count? = ALGORITHMIC.tokens?.let(::Count),
        loss: LossScope = ALGORITHMIC.loss,
        examplesPerBatch: Int? = ALGORITHMIC.examplesPerBatch,
    ) {
        algorithmic {
            tasks.forEach { task(it) }
            this.tokens = tokens
            this.loss = loss
            this.examplesPerBatch = examplesPerBatch
        }
    }

    /**
     * Trains on text from [corpus]: `language(Corpus.Austen, tokens = 10.M)`. With [tokens] after
     * an algorithmic token count, the split curriculum trains on algorithmic tokens first, then
     * these.
     */
    public fun language(
        corpus: CorpusSpec = LANGUAGE.corpus,
        tokens: Count? = LANGUAGE.tokens?.let(::Count),
        sequenceLength: Int? = LANGUAGE.sequenceLength,
        validationEvery: Int = LANGUAGE.validationEvery,
    ) {
        spec =
            spec.copy(
                language = LanguageDataSpec(corpus, tokens?.value, sequenceLength, validationEvery)
            )
    }

    /**
     * How the data changes as training goes: phases, per-task competence or staged unlocking, and
     * progressive sequence length.
     *
     * ```
     * curriculum {
     *     phase(tokens = 1.M, algorithmic = 1.0)
     *     phase(tokens = 3.M, algorithmic = 0.1, language = 0.9)
     *     tasks = competence(raiseAt = 0.9, cooldown = 200.steps)
     *     sequenceLength(from = 2_000.steps, length = 256)
     * }
     * ```
     */
    public fun curriculum(block: CurriculumBuilder.() -> Unit) {
        spec = spec.copy(curriculum = CurriculumBuilder().apply(block).build())
    }

    internal fun build(): DataSpec = spec

    private companion object {
        // The specs hold the defaults; the builder's parameters read them from there.
        val ALGORITHMIC = AlgorithmicDataSpec(tasks = emptyList())
        val LANGUAGE = LanguageDataSpec()
    }
}

/** Builds an [AlgorithmicDataSpec]; every default is the spec's own. */
@LooplabDsl
public class AlgorithmicBuilder internal constructor() {
    private var spec = AlgorithmicDataSpec(tasks = emptyList())

    /** Which tokens carry loss; [LossScope.Answer] by default. */
    public var loss: LossScope
        get() = spec.loss
        set(value) {
            spec = spec.copy(loss = value)
        }

    /**
     * Algorithmic tokens of a split curriculum, trained before the language data; null: no split.
     */
    public var tokens: Count?
        get() = spec.tokens?.let(::Count)
        set(value) {
            spec = spec.copy(tokens = value?.value)
        }

    /** Examples in one algorithmic batch; null: the stage's batch size. */
    public var examplesPerBatch: Int?
        get() = spec.examplesPerBatch
        set(value) {
            spec = spec.copy(examplesPerBatch = value)
        }

    /**
     * Adds [task] to the mixture with a sampling [weight] and optional length overrides (null: the
     * task's own).
     */
    public fun task(
        task: TaskId,
        weight: Double = TaskSpec(task).weight,
        train: IntRange? = TaskSpec(task).train?.let { it.min..it.max },
        ood: List<Int>? = TaskSpec(task).ood,
    ) {
        spec = spec.copy(tasks = spec.tasks + TaskSpec(task, weight, train?.toLengths(), ood))
    }

    internal fun build(): AlgorithmicDataSpec = spec
}
