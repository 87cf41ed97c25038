package looplab.pipelines.run

import looplab.dsl.GrpoSpec
import looplab.dsl.adaptersBehind
import looplab.models.adapters.HraModel
import looplab.models.eager.ParameterStore
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
            // Training only adapters: fresh HRA adapters (the identity at the start) of the SFT
            // stage's shape around the merged weights it produced.
            val adapters =
                if (stage.adaptersOnly)
                    HraModel(
                        model,
                        experiment.pipeline.adaptersBehind(stage.from)
                            ?: error(
                                "planning lets adaptersOnly through only with adapters behind it"
                            ),
                    )
                else null
            val adaptedStore =
                adapters?.let { hra ->
                    ParameterStore(hra.parameters, backend, experiment.seed).also {
                        it.load(it.snapshot() + store.snapshot())
                    }
                }
            // Resolved once: without questions of its own, the evaluation asks the prompts.
            val prompts = GrpoPlanning.prompts(stage, experiment.seed, data.registry)
            try {
                GrpoTraining(
                        stage,
                        spec.name,
                        adapters ?: model,
                        adaptedStore ?: store,
                        backend,
                        executor,
                        experiment.backend,
                        data.tokenizer,
                        prompts,
                        experiment.seed,
                        dir.checkpoint(spec.name, stage.id),
                        resume,
                        listeners,
                        Execution.lossScaler(experiment),
                        stop,
                        spec.contextLength,
                        merged = if (adaptedStore != null) store else null,
                        evalQuestions =
                            GrpoPlanning.evalQuestions(stage, experiment.seed, data.registry)
                                ?: prompts,
                    )
                    .run()
            } finally {
                adaptedStore?.close()
            }
            weightsOf = stage.id
        }
}
