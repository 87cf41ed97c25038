package looplab.pipelines.plan

import looplab.curriculum.data.Batcher
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.CharTokenizer
import looplab.curriculum.text.Tokenizer
import looplab.dsl.CharTokenizerSpec
import looplab.dsl.ConstantLr
import looplab.dsl.CosineLr
import looplab.dsl.EvalSpec
import looplab.dsl.ExperimentSpec
import looplab.dsl.InvalidSpecException
import looplab.dsl.PretrainSpec
import looplab.dsl.SpecChecker
import looplab.dsl.StageSpec
import looplab.dsl.Steps
import looplab.dsl.TaskSpec
import looplab.dsl.Tokens
import looplab.dsl.TokenizerSpec
import looplab.dsl.validate
import looplab.models.cost.MemoryEstimate
import kotlin.math.ceil

/** Compiles specs into [Plan]s, checking what the spec alone cannot: tasks exist, examples fit. */
public class Planner(private val registry: TaskRegistry = TaskRegistry()) {

    /** The plan of [spec], or [InvalidSpecException] listing every error found. */
    public fun compile(spec: ExperimentSpec): Plan {
        val check = SpecChecker()
        spec.validate().forEach { check.require(it.path, false) { it.message } }
        val tokenizer = tokenizerFor(spec.data.tokenizer)
        val algorithmic = spec.data.algorithmic
        val mixture = algorithmic?.let { TaskMixture.resolve(it, registry, spec.seed, check.at("data.algorithmic")) }
        if (check.errors.isNotEmpty() || algorithmic == null || mixture == null) throw InvalidSpecException(check.errors)

        val batcher = Batcher(tokenizer, algorithmic.loss)
        val lengths = (0 until 2_000L).map { batcher.encode(mixture.sample(it).example).first.size - 1 }
        val longest = mixture.maxTrainChars() + 1 // BOS + chars + EOS, minus the one the model never reads
        val data = DataPlan(
            tasks = mixture.tasks.map { TaskPlan(it.task.id.name, it.weight, it.task.lengthUnit, it.train, it.ood) },
            longestExample = longest,
            meanExample = lengths.average(),
        )
        spec.models.forEach { model ->
            check.at("model[${model.name}]").require("contextLength", longest <= model.contextLength) {
                "the longest training example has $longest tokens, more than the context length ${model.contextLength}"
            }
        }
        val evalTokens = (spec.pipeline.stages.filterIsInstance<EvalSpec>().mapNotNull { it.algorithmic?.maxNewTokens } + decodingBudget(mixture)).max()
        spec.models.forEach { ModelParts.check(it, tokenizer.vocabSize, mixture, evalTokens, check.at("model[${it.name}]")) }
        val stages = spec.pipeline.stages.map { stage -> planStage(stage, spec, data, mixture, tokenizer, check.at("pipeline.${stage.id}")) }
        if (check.errors.isNotEmpty()) throw InvalidSpecException(check.errors)

        val resolved = spec.copy(
            data = spec.data.copy(algorithmic = algorithmic.copy(tasks = mixture.tasks.map { TaskSpec(it.task.id, it.weight, it.train, it.ood) })),
            models = spec.models.map { it.copy(ffnHidden = it.resolvedFfnHidden) },
        )
        return Plan(
            experiment = resolved,
            tokenizer = tokenizerName(spec.data.tokenizer),
            vocabSize = tokenizer.vocabSize,
            data = data,
            models = resolved.models.map { ModelParts.plan(it, tokenizer.vocabSize) },
            stages = stages,
        )
    }

    private fun planStage(stage: StageSpec, spec: ExperimentSpec, data: DataPlan, mixture: TaskMixture, tokenizer: Tokenizer, check: SpecChecker): StagePlan =
        when (stage) {
            is PretrainSpec -> {
                val steps = when (val budget = stage.budget) {
                    is Steps -> budget.steps
                    is Tokens -> ceil(budget.tokens / (stage.batchSize * data.meanExample)).toLong()
                }
                val warmup = when (val lr = stage.lr) {
                    is CosineLr -> lr.warmup.steps
                    is ConstantLr -> lr.warmup.steps
                }
                check.at("lr.warmup").require("steps", warmup < steps) { "must be shorter than the stage's $steps steps, was $warmup" }
                val padded = (data.longestExample + 7) / 8 * 8
                StagePlan(
                    id = stage.id, kind = "pretrain", steps = steps,
                    tokens = (stage.budget as? Tokens)?.tokens ?: (steps * stage.batchSize * data.meanExample).toLong(),
                    batchSize = stage.batchSize,
                    memoryBytes = spec.models.associate { it.name to MemoryEstimate.of(it, tokenizer.vocabSize, stage.batchSize, padded).total },
                )
            }
            is EvalSpec -> {
                stage.algorithmic?.let { eval ->
                    val needed = decodingBudget(mixture)
                    check.at("algorithmic").require("maxNewTokens", eval.maxNewTokens >= needed) {
                        "the longest answer of the grid needs $needed tokens with its end-of-sequence, more than ${eval.maxNewTokens}"
                    }
                }
                StagePlan(id = stage.id, kind = "eval", from = stage.from)
            }
        }

    public companion object {
        /** New tokens that greedy decoding needs for the longest answer of the grid, its EOS included. */
        public fun decodingBudget(mixture: TaskMixture): Int =
            mixture.tasks.maxOf { t -> (t.train.min..t.train.max).plus(t.ood).maxOf { t.task.maxAnswerChars(it) } } + 1

        public fun tokenizerFor(spec: TokenizerSpec): Tokenizer = when (spec) {
            CharTokenizerSpec -> CharTokenizer
        }

        public fun tokenizerName(spec: TokenizerSpec): String = when (spec) {
            CharTokenizerSpec -> "chars (printable ASCII + PAD/BOS/EOS)"
        }
    }
}
