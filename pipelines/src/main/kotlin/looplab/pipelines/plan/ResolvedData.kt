package looplab.pipelines.plan

import kotlin.math.ceil
import looplab.curriculum.data.Batcher
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.language.CorpusException
import looplab.curriculum.language.LanguageBatches
import looplab.curriculum.language.LanguageData
import looplab.curriculum.schedule.SequenceSchedule
import looplab.curriculum.schedule.SplitSchedule
import looplab.curriculum.schedule.StepPhase
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.Tokenizer
import looplab.curriculum.text.TokenizerFactory
import looplab.curriculum.text.TokenizerLoadException
import looplab.dsl.CompetenceSpec
import looplab.dsl.DagSpec
import looplab.dsl.ExperimentSpec
import looplab.dsl.PhaseSpec
import looplab.dsl.PretrainSpec
import looplab.dsl.SpecChecker
import looplab.dsl.Steps
import looplab.pipelines.train.TrainingData

/** The experiment's data, resolved: tokenizer, task mixture, tokenized corpus and schedules. */
public class ResolvedData(
    public val tokenizer: Tokenizer,
    public val mixture: TaskMixture?,
    public val language: LanguageData?,
    /** Language sequence length schedule (a single length without progressive lengths). */
    public val lengths: SequenceSchedule,
    public val meanExample: Double,
    public val longestExample: Int,
    /** Examples in one algorithmic batch; null: the stage's batch size. */
    public val examplesPerBatch: Int? = null,
    /**
     * What chat data resolves against: the run's tasks and chat generators (a script's own too),
     * and the tasks of the experiment's mixture.
     */
    public val registry: TaskRegistry = TaskRegistry(),
) {
    /** Examples in an algorithmic batch of a stage of [batchSize] sequences. */
    public fun algorithmicBatch(batchSize: Int): Int = examplesPerBatch ?: batchSize

    /** Tokens one step reads in a phase with these weights, at the language length of [step]. */
    public fun tokensPerStep(
        batchSize: Int,
        algorithmic: Double,
        language: Double,
        step: Long,
    ): Double {
        val total = algorithmic + language
        return (algorithmic / total) * algorithmicBatch(batchSize) * meanExample +
            (language / total) * batchSize * lengths.lengthAt(step)
    }

    /**
     * The split phases as declared (or implied by token counts), before they are fixed in steps.
     */
    public fun declaredPhases(spec: ExperimentSpec): List<PhaseSpec> {
        val data = spec.data
        data.curriculum
            ?.phases
            ?.takeIf { it.isNotEmpty() }
            ?.let {
                return it
            }
        val alg = data.algorithmic?.tokens
        return when {
            mixture != null && language != null && alg != null ->
                listOf(
                    PhaseSpec(alg, 1.0, 0.0),
                    PhaseSpec(data.language?.tokens ?: Long.MAX_VALUE, 0.0, 1.0),
                )
            mixture != null && language != null -> listOf(PhaseSpec(Long.MAX_VALUE, 1.0, 1.0))
            language != null -> listOf(PhaseSpec(Long.MAX_VALUE, 0.0, 1.0))
            else -> listOf(PhaseSpec(Long.MAX_VALUE, 1.0, 0.0))
        }
    }

    /**
     * The phases fixed in steps for a stage of [batchSize] sequences (token counts over steps at
     * the phase's mixture).
     */
    public fun phases(spec: ExperimentSpec, batchSize: Int): List<PhasePlan> {
        var from = 0L
        return declaredPhases(spec).map { p ->
            val steps =
                if (p.tokens == Long.MAX_VALUE) Long.MAX_VALUE / 4
                else
                    ceil(p.tokens / tokensPerStep(batchSize, p.algorithmic, p.language, from))
                        .toLong()
            PhasePlan(p.tokens, from, from + steps, p.algorithmic, p.language, p.taskWeights).also {
                from += steps
            }
        }
    }

    public fun split(phases: List<PhasePlan>, seed: Long): SplitSchedule =
        SplitSchedule(
            phases.map { StepPhase(it.untilStep, it.algorithmic, it.language, it.taskWeights) },
            seed,
        )

    /**
     * The batches of a pretraining stage of [batchSize] sequences: tasks, corpus windows and the
     * split between them.
     */
    public fun trainingData(
        spec: ExperimentSpec,
        batchSize: Int,
        firstBatch: Long = 0,
    ): TrainingData =
        TrainingData(
            mixture,
            spec.data.algorithmic?.let { Batcher(tokenizer, it.loss) },
            batchSize,
            spec.seed,
            examplesPerBatch = algorithmicBatch(batchSize),
            language = language?.let { LanguageBatches(it.train, batchSize, spec.seed) },
            languageValidation = language?.validation,
            split = split(phases(spec, batchSize), spec.seed),
            lengths = lengths,
            firstBatch = firstBatch,
        )

    public companion object {
        /**
         * Resolves [spec]'s data, recording what is wrong at its path in [check]; null if it cannot
         * be resolved.
         */
        public fun resolve(
            spec: ExperimentSpec,
            registry: TaskRegistry,
            check: SpecChecker,
        ): ResolvedData? {
            val data = spec.data
            val tokenizer =
                try {
                    TokenizerFactory.load(data.tokenizer, data.language)
                } catch (e: TokenizerLoadException) {
                    check.require("data.tokenizer", false) { e.message!! }
                    return null
                } catch (e: CorpusException) {
                    check.require("data.tokenizer.corpus", false) { e.message!! }
                    return null
                }
            val mixture =
                data.algorithmic?.let {
                    TaskMixture.resolve(it, registry, spec.seed, check.at("data.algorithmic"))
                }
            if (data.algorithmic != null && mixture == null) return null
            val language =
                data.language?.let { lang ->
                    try {
                        LanguageData.cached(lang, tokenizer)
                    } catch (e: CorpusException) {
                        check.require("data.language.corpus", false) { e.message!! }
                        return null
                    }
                }
            val shortestContext = spec.models.minOfOrNull { it.contextLength } ?: 2
            val initial = data.language?.sequenceLength ?: shortestContext
            val lengths =
                SequenceSchedule(
                    initial,
                    data.curriculum?.sequenceLength.orEmpty().map { it.from.steps to it.length },
                )
            var mean = 0.0
            var longest = 0
            if (mixture != null) {
                val batcher = Batcher(tokenizer, data.algorithmic!!.loss)
                mean =
                    (0 until 2_000L)
                        .map { batcher.encode(mixture.sample(it).example).first.size - 1 }
                        .average()
                // Characters bound tokens for the char and byte tokenizers; for a BPE this bound is
                // loose but safe.
                longest = mixture.maxTrainChars() + 1
            }
            if (language != null) {
                spec.models.forEach { model ->
                    lengths.lengths
                        .filter { it > model.contextLength }
                        .forEach { len ->
                            check.at("model[${model.name}]").require("contextLength", false) {
                                "language sequences of $len tokens are scheduled, more than the context length ${model.contextLength}"
                            }
                        }
                }
                val longestSequence = lengths.lengths.max()
                check.at("data.language").require(
                    "corpus",
                    language.train.size > longestSequence + 1 &&
                        language.validation.size > longestSequence + 1,
                ) {
                    "${language.corpus} has ${language.train.size} training and ${language.validation.size} held-out tokens, too few for sequences of $longestSequence"
                }
            }
            return ResolvedData(
                tokenizer,
                mixture,
                language,
                lengths,
                mean,
                longest,
                data.algorithmic?.examplesPerBatch,
                registry.plus(
                    mixture?.tasks?.map { it.task }.orEmpty().filter { registry[it.id] == null }
                ),
            )
        }

        /** A one-line description of the task curriculum. */
        public fun describeTaskCurriculum(spec: ExperimentSpec): String? =
            when (val t = spec.data.curriculum?.tasks) {
                null -> null
                is CompetenceSpec ->
                    "competence: one length up at accuracy average ≥ ${t.raiseAt}, down at ≤ ${t.lowerAt}; " +
                        "≥ ${t.minEvals} evaluations and ${t.cooldown.steps} steps between changes; jitter ${t.jitter}; average decay ${t.emaDecay}"
                is DagSpec ->
                    "dag: " +
                        t.stages.joinToString(" -> ") { s ->
                            s.tasks.joinToString("+") + " (≥ ${s.threshold})"
                        } +
                        "; patience ${t.patience} evaluations; replay ${t.replay}"
            }

        /** Split phases whose token counts do not fit a step budget. */
        public fun checkPhasesFit(
            phases: List<PhasePlan>,
            stage: PretrainSpec,
            steps: Long,
            check: SpecChecker,
        ) {
            if (stage.budget !is Steps) return
            val declared = phases.filter { it.tokens != Long.MAX_VALUE }
            if (declared.size < phases.size || declared.isEmpty()) return
            val needed = declared.last().untilStep
            check.require("data.curriculum.phases", needed <= steps) {
                "the phases add up to ${declared.sumOf { it.tokens }} tokens, about $needed steps of ${stage.id}, more than its budget of $steps steps"
            }
        }
    }
}
