package looplab.pipelines.run

import looplab.dsl.EvalSpec
import looplab.dsl.ModelSpec
import looplab.dsl.PretrainSpec
import looplab.dsl.StageSpec
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.eval.AlgorithmicEvaluator
import looplab.pipelines.eval.LanguageEvaluator
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.ResolvedData
import looplab.pipelines.plan.StagePlan

/** Runs one stage of the pipeline for one model variant. */
internal sealed interface StageRunner {
    fun run(variant: VariantContext)
}

/** The runner of each kind of stage: a new stage is a new spec, a new runner and a line here. */
internal fun runnerFor(stage: StageSpec, plan: StagePlan): StageRunner = when (stage) {
    is PretrainSpec -> PretrainRunner(stage, plannedSteps = plan.steps!!)
    is EvalSpec -> EvalRunner(stage)
}

/** What every stage of one model variant works with, and what the stages leave for later ones. */
internal class VariantContext(
    val spec: ModelSpec,
    val plan: Plan,
    val data: ResolvedData,
    val backend: EagerBackend,
    val dir: RunDirectory,
    val model: LanguageModel,
    val store: ParameterStore,
    val executor: Executor,
    val evaluator: AlgorithmicEvaluator,
    val languageEvaluator: LanguageEvaluator?,
    val listeners: TrainingListener,
    val resume: Boolean,
    val producers: Int,
    /** Where notes for the user go (which checkpoint a resume took). */
    val notes: (String) -> Unit = {},
) {
    /** The checkpoints of stage [id] of this variant. */
    fun checkpoint(id: String): Checkpoint = dir.checkpoint(spec.name, id, plan.experiment.name, notes)

    /** The stage whose weights the store holds now. */
    var weightsOf: String? = null

    /** The eval stages' accuracy grids. */
    val results: MutableList<VariantResults> = mutableListOf()

    /** Puts the weights stage [id] produced into the store, unless they are already there. */
    fun loadWeightsOf(id: String) {
        if (weightsOf == id) return
        checkpoint(id).restoreWeights(store)
        weightsOf = id
    }
}
