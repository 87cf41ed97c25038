package looplab.pipelines.run

import looplab.dsl.GrpoSpec
import looplab.pipelines.posttrain.grpo.GrpoPlanning
import looplab.pipelines.posttrain.grpo.GrpoTraining
import looplab.pipelines.train.Execution

/**
 * Runs a GRPO stage of the pipeline: from the weights of its `from` stage, recorded like any
 * training stage.
 */
internal class GrpoRunner(private val stage: GrpoSpec, private val plannedSteps: Long) :
    StageRunner {
    override fun run(variant: VariantContext) =
        with(variant) {
            check(plannedSteps == stage.budget.steps * stage.updatesPerBatch) {
                "the plan of ${stage.id} does not match its budget"
            }
            loadWeightsOf(stage.from)
            val experiment = plan.experiment
            GrpoTraining(
                    stage,
                    spec.name,
                    model,
                    store,
                    backend,
                    executor,
                    experiment.backend,
                    data.tokenizer,
                    GrpoPlanning.prompts(stage, experiment.seed),
                    experiment.seed,
                    dir.checkpoint(spec.name, stage.id),
                    resume,
                    listeners,
                    Execution.lossScaler(experiment),
                    stop,
                    spec.contextLength,
                )
                .run()
            weightsOf = stage.id
        }
}
