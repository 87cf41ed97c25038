package looplab.pipelines.plan

import kotlin.math.ceil
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.TokenizerFactory
import looplab.dsl.EvalSpec
import looplab.dsl.ExperimentSpec
import looplab.dsl.GrpoSpec
import looplab.dsl.InvalidSpecException
import looplab.dsl.PretrainSpec
import looplab.dsl.SftSpec
import looplab.dsl.SpecChecker
import looplab.dsl.StageSpec
import looplab.dsl.Steps
import looplab.dsl.TaskSpec
import looplab.dsl.Tokens
import looplab.dsl.validate
import looplab.models.cost.MemoryEstimate
import looplab.pipelines.sft.SftPlanning

/** Compiles specs into [Plan]s, checking what the spec alone cannot: tasks exist, examples fit. */
public class Planner(private val registry: TaskRegistry = TaskRegistry()) {

    /** The plan of [spec], or [InvalidSpecException] listing every error found. */
    public fun compile(spec: ExperimentSpec): Plan = compileResolved(spec).first

    /**
     * The plan of [spec] with the data resolved to make it, so that a run need not resolve it
     * again.
     */
    internal fun compileResolved(spec: ExperimentSpec): Pair<Plan, ResolvedData> {
        val check = SpecChecker()
        val structural = spec.validate()
        structural.forEach { check.require(it.path, false) { it.message } }
        // Data with structural errors cannot be loaded; other errors are reported with what
        // resolving finds.
        if (structural.any { it.path.startsWith("data") }) throw InvalidSpecException(check.errors)
        val resolved = ResolvedData.resolve(spec, registry, check)
        if (check.errors.isNotEmpty() || resolved == null) throw InvalidSpecException(check.errors)
        val firstPretrain = spec.pipeline.stages.filterIsInstance<PretrainSpec>().firstOrNull()
        val phases = resolved.phases(spec, firstPretrain?.batchSize ?: 1)
        val language =
            resolved.language?.let { lang ->
                val every = spec.data.language!!.validationEvery
                LanguagePlan(
                    corpus = lang.corpus,
                    documents = lang.documents,
                    validationDocuments = lang.validationDocuments,
                    split = "document i is held out when i % $every == ${every - 1}",
                    trainTokens = lang.train.size,
                    validationTokens = lang.validation.size,
                    trainBytes = lang.trainBytes,
                    validationBytes = lang.validationBytes,
                    gzipBitsPerByte = lang.gzipBitsPerByte,
                    sequenceLength = resolved.lengths.lengthAt(0),
                    sequenceSchedule =
                        spec.data.curriculum?.sequenceLength.orEmpty().map {
                            it.from.steps to it.length
                        },
                )
            }
        val data =
            DataPlan(
                tasks =
                    resolved.mixture?.tasks.orEmpty().map {
                        TaskPlan(
                            it.task.id.name,
                            it.weight,
                            it.task.lengthUnit,
                            it.train,
                            it.ood,
                            chanceIid = (it.train.min..it.train.max).map(it.task::chance).average(),
                            chanceOod =
                                if (it.ood.isEmpty()) 0.0 else it.ood.map(it.task::chance).average(),
                        )
                    },
                longestExample = resolved.longestExample,
                meanExample = resolved.meanExample,
                language = language,
                phases =
                    if (phases.size > 1 || (resolved.mixture != null && language != null)) phases
                    else emptyList(),
                taskCurriculum = ResolvedData.describeTaskCurriculum(spec),
            )
        if (resolved.mixture != null) {
            spec.models.forEach { model ->
                check.at("model[${model.name}]").require(
                    "contextLength",
                    resolved.longestExample <= model.contextLength,
                ) {
                    "the longest training example has ${resolved.longestExample} tokens, more than the context length ${model.contextLength}"
                }
            }
        }
        val evalTokens =
            (spec.pipeline.stages.filterIsInstance<EvalSpec>().mapNotNull {
                    it.algorithmic?.maxNewTokens
                } + listOfNotNull(resolved.mixture?.let { decodingBudget(it) }))
                .maxOrNull() ?: 0
        spec.models.forEach {
            ModelParts.check(
                it,
                resolved.tokenizer.vocabSize,
                resolved.mixture,
                evalTokens,
                check.at("model[${it.name}]"),
            )
        }
        val stages =
            spec.pipeline.stages.map { stage ->
                planStage(stage, spec, resolved, check.at("pipeline.${stage.id}"), check)
            }
        if (check.errors.isNotEmpty()) throw InvalidSpecException(check.errors)

        val algorithmic = spec.data.algorithmic
        val resolvedSpec =
            spec.copy(
                data =
                    spec.data.copy(
                        algorithmic =
                            if (algorithmic == null || resolved.mixture == null) algorithmic
                            else
                                algorithmic.copy(
                                    tasks =
                                        resolved.mixture.tasks.map {
                                            TaskSpec(it.task.id, it.weight, it.train, it.ood)
                                        }
                                )
                    ),
                models = spec.models.map { it.copy(ffnHidden = it.resolvedFfnHidden) },
            )
        return Plan(
            experiment = resolvedSpec,
            tokenizer = TokenizerFactory.describe(spec.data.tokenizer),
            vocabSize = resolved.tokenizer.vocabSize,
            data = data,
            models = resolvedSpec.models.map { ModelParts.plan(it, resolved.tokenizer.vocabSize) },
            stages = stages,
        ) to resolved
    }

    private fun planStage(
        stage: StageSpec,
        spec: ExperimentSpec,
        data: ResolvedData,
        check: SpecChecker,
        root: SpecChecker,
    ): StagePlan =
        when (stage) {
            is PretrainSpec -> {
                val stagePhases = data.phases(spec, stage.batchSize)
                val steps =
                    when (val budget = stage.budget) {
                        is Steps -> budget.steps
                        // Walk the phases: each contributes its tokens (or what is left of the
                        // budget) at its own tokens per step.
                        is Tokens -> {
                            var left = budget.tokens.toDouble()
                            var steps = 0.0
                            for (p in stagePhases) {
                                if (left <= 0) break
                                val take = minOf(left, p.tokens.toDouble())
                                steps +=
                                    take /
                                        data.tokensPerStep(
                                            stage.batchSize,
                                            p.algorithmic,
                                            p.language,
                                            p.fromStep,
                                        )
                                left -= take
                            }
                            ceil(steps).toLong()
                        }
                    }
                ResolvedData.checkPhasesFit(stagePhases, stage, steps, root)
                val warmup = stage.lr.warmup.steps
                check.at("lr.warmup").require("steps", warmup < steps) {
                    "must be shorter than the stage's $steps steps, was $warmup"
                }
                // Algorithmic rows are padded to a multiple of 8, as the batcher pads them.
                val exampleRow = (data.longestExample + 7) / 8 * 8
                val sequence =
                    maxOf(exampleRow, if (data.language != null) data.lengths.lengths.max() else 0)
                val first = stagePhases.first()
                StagePlan(
                    id = stage.id,
                    kind = "pretrain",
                    from = stage.from,
                    steps = steps,
                    tokens =
                        (stage.budget as? Tokens)?.tokens
                            ?: (steps *
                                    data.tokensPerStep(
                                        stage.batchSize,
                                        first.algorithmic,
                                        first.language,
                                        0,
                                    ))
                                .toLong(),
                    batchSize = stage.batchSize,
                    memoryBytes =
                        spec.models.associate {
                            it.name to
                                maxOf(
                                    MemoryEstimate.of(
                                            it,
                                            data.tokenizer.vocabSize,
                                            stage.batchSize,
                                            sequence,
                                        )
                                        .total,
                                    // A larger algorithmic batch of short rows may be the larger.
                                    MemoryEstimate.of(
                                            it,
                                            data.tokenizer.vocabSize,
                                            data.algorithmicBatch(stage.batchSize),
                                            exampleRow,
                                        )
                                        .total,
                                )
                        },
                )
            }
            is EvalSpec -> {
                if (data.mixture != null) {
                    stage.algorithmic?.let { eval ->
                        val needed = decodingBudget(data.mixture)
                        check.at("algorithmic").require(
                            "maxNewTokens",
                            eval.maxNewTokens >= needed,
                        ) {
                            "the longest answer of the grid needs $needed tokens with its end-of-sequence, more than ${eval.maxNewTokens}"
                        }
                    }
                }
                check.require("language", stage.language == null || data.language != null) {
                    "measures perplexity, but the data declares no language corpus"
                }
                stage.chat?.let { chat ->
                    check.at("chat").atLeast("samples", chat.samples, 1)
                    val questions =
                        looplab.pipelines.eval.ChatSuite.data(chat, spec.pipeline, stage.from)
                    check.require("chat", questions != null) {
                        "measures chat answers, but names no chat data and the weights of ${stage.from} come from no sft or grpo stage: give chat { taskQuestions(...) }"
                    }
                    // Its own questions are checked now, not after the training before it.
                    if (questions != null && chat.data != null)
                        looplab.curriculum.chat.ChatSources.resolve(
                            questions,
                            spec.seed,
                            data.registry,
                            check.at("chat.data"),
                        )
                }
                StagePlan(id = stage.id, kind = "eval", from = stage.from)
            }
            is SftSpec -> SftPlanning.plan(stage, spec, data.tokenizer, data.registry, check)
            is GrpoSpec ->
                looplab.pipelines.posttrain.grpo.GrpoPlanning.plan(stage, spec, data, check)
        }

    public companion object {
        /**
         * New tokens that greedy decoding needs for the longest answer of the grid, its EOS
         * included.
         */
        public fun decodingBudget(mixture: TaskMixture): Int = mixture.maxAnswerChars() + 1
    }
}
