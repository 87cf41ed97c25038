package looplab.pipelines.run

import com.github.ajalt.mordant.terminal.Terminal
import looplab.dsl.EvalSpec
import looplab.dsl.GrpoSpec
import looplab.dsl.ModelSpec
import looplab.dsl.PretrainSpec
import looplab.dsl.SftSpec
import looplab.dsl.StageSpec
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.eval.AlgorithmicEvaluator
import looplab.pipelines.eval.EvalHub
import looplab.pipelines.eval.LanguageEvaluator
import looplab.pipelines.eval.Suite
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.ResolvedData
import looplab.pipelines.plan.StagePlan
import looplab.pipelines.train.StopRequest

/** Runs one stage of the pipeline for one model variant. */
internal sealed interface StageRunner {
    fun run(variant: VariantContext)
}

/** The runner of each kind of stage: a new stage is a new spec, a new runner and a line here. */
internal fun runnerFor(stage: StageSpec, plan: StagePlan): StageRunner =
    when (stage) {
        is PretrainSpec -> PretrainRunner(stage, plannedSteps = plan.steps!!)
        is EvalSpec -> EvalRunner(stage)
        is SftSpec -> SftRunner(stage, plannedSteps = plan.steps!!)
        is GrpoSpec -> GrpoRunner(stage, plannedSteps = plan.steps!!)
    }

/** What every stage of one model variant works with, and what the stages leave for later ones. */
internal class VariantContext(
    val spec: ModelSpec,
    val plan: Plan,
    val data: ResolvedData,
    val backend: EagerBackend,
    /** Runs the evaluation suites the eval stages name. */
    val hub: EvalHub,
    val dir: RunDirectory,
    val model: LanguageModel,
    val store: ParameterStore,
    val executor: Executor,
    val evaluator: AlgorithmicEvaluator,
    val languageEvaluator: LanguageEvaluator?,
    val listeners: TrainingListener,
    val resume: Boolean,
    val producers: Int,
    /**
     * Where notes for the user (a suite that could not measure, which checkpoint a resume took) go.
     */
    val terminal: Terminal,
    /** Asks the training loop to save and stop (Ctrl-C, SIGTERM). */
    val stop: StopRequest = StopRequest(),
) {
    /** The checkpoints of stage [id] of this variant; a resume says which one it took. */
    fun checkpoint(id: String): Checkpoint =
        dir.checkpoint(spec.name, id, plan.experiment.name) {
            terminal.println("[${spec.name}] $it")
        }

    /** The stage whose weights the store holds now; null: the initialisation. */
    var weightsOf: String? = null

    /** The initial weights, kept when a later training stage may start from scratch again. */
    private val initial: Map<String, FloatArray>? =
        if (plan.experiment.pipeline.stages.count { it is PretrainSpec } > 1) store.snapshot()
        else null

    /**
     * Puts the variant's initial weights back (a training stage without `from` starts from
     * scratch).
     */
    fun loadInitialWeights() {
        if (weightsOf == null) return
        store.load(initial!!)
        weightsOf = null
    }

    /** What the eval stages measured, by suite. */
    val results: MutableList<Pair<Suite, SuiteEntry>> = mutableListOf()

    /** Puts the weights stage [id] produced into the store, unless they are already there. */
    fun loadWeightsOf(id: String) {
        if (weightsOf == id) return
        checkpoint(id).restoreWeights(store)
        weightsOf = id
    }
}
