package looplab.pipelines.run

import looplab.dsl.CheckpointPolicy
import looplab.dsl.InvalidSpecException
import looplab.dsl.ParamRole
import looplab.dsl.SftSpec
import looplab.dsl.SpecChecker
import looplab.models.adapters.HraModel
import looplab.models.eager.ParameterStore
import looplab.pipelines.eval.Completers
import looplab.pipelines.sft.AdaptedCheckpoint
import looplab.pipelines.sft.ChatBatches
import looplab.pipelines.sft.ChatEvaluator
import looplab.pipelines.sft.ChatObjective
import looplab.pipelines.sft.SftData
import looplab.pipelines.sft.SftEvaluation
import looplab.pipelines.train.CheckpointTrigger
import looplab.pipelines.train.Checkpointing
import looplab.pipelines.train.Execution
import looplab.pipelines.train.LoopSettings
import looplab.pipelines.train.StageBudget
import looplab.pipelines.train.TrainingLoop

/**
 * Supervised fine-tuning on chat data through the common [TrainingLoop], from the weights stage
 * `from` produced. Without adapters it trains the model's own weights. With HRA adapters it trains
 * an adapted copy (the base's weights plus the factors, the adapters at `lrMultiplier` times the
 * rate, the base at rate 0 when frozen) and its result is the merged model, so the stages after it
 * and every command read a plain model. Before the first step (of a fresh start) it measures the
 * starting point, so the record holds the answer-format rate and accuracy before and after.
 */
internal class SftRunner(private val stage: SftSpec, private val plannedSteps: Long) : StageRunner {
    override fun run(variant: VariantContext) =
        with(variant) {
            val experiment = plan.experiment
            loadWeightsOf(stage.from)
            val check = SpecChecker("pipeline.${stage.id}")
            val chat =
                SftData.resolve(
                    stage,
                    experiment.seed,
                    data.tokenizer,
                    data.registry,
                    spec.contextLength,
                    check,
                ) ?: throw InvalidSpecException(check.errors)
            val adapters = stage.adapters
            val trained = adapters?.let { HraModel(model, it) }
            // The adapted model's own store: the base's current weights, then the adapters as
            // initialised.
            val adaptedStore =
                trained?.let { hra ->
                    ParameterStore(hra.parameters, backend, experiment.seed).also {
                        it.load(it.snapshot() + store.snapshot())
                    }
                }
            val trainStore = adaptedStore ?: store
            val multipliers =
                adapters
                    ?.let { hra ->
                        ParamRole.entries.associateWith { role ->
                            if (role == ParamRole.Adapter) hra.lrMultiplier
                            else if (hra.freezeBase) 0.0 else 1.0
                        }
                    }
                    .orEmpty()
            val optimizer =
                Execution.optimizer(
                    experiment.backend,
                    stage.optimizer,
                    trainStore,
                    backend,
                    stage.lr.peak,
                    multipliers,
                )
            try {
                val objective = ChatObjective(executor, trained ?: model, trainStore, stage.packing)
                val validation = chat.validationBatches(VALIDATION_BATCHES)
                val stageCheckpoint = dir.checkpoint(spec.name, stage.id)
                val checkpoints: Checkpointing =
                    if (trained == null) {
                        StageCheckpoint(stageCheckpoint, store, optimizer, resume = resume)
                    } else {
                        AdaptedCheckpoint(
                            Checkpoint(stageCheckpoint.dir.resolveSibling("${stage.id}.adapted")),
                            stageCheckpoint,
                            trained,
                            adaptedStore!!,
                            store,
                            optimizer,
                            resume,
                        )
                    }
                val evaluator =
                    ChatEvaluator(
                        chat.mixture,
                        chat.template,
                        data.tokenizer,
                        Completers.greedy(model, store, backend, data.tokenizer.eos, executor),
                        spec.contextLength,
                    )
                val evaluation =
                    SftEvaluation(
                        spec.name,
                        stage.id,
                        stage.evalEvery?.steps,
                        stage.evalSamples,
                        validationLoss = { objective.loss(validation) },
                        chat = evaluator,
                        prepare = {
                            if (checkpoints is AdaptedCheckpoint) checkpoints.mergeInto(store)
                        },
                    )
                // The starting point, measured once: a resumed stage already has it in its record.
                val fresh =
                    !(resume &&
                        (stageCheckpoint.exists ||
                            Checkpoint(stageCheckpoint.dir.resolveSibling("${stage.id}.adapted"))
                                .exists))
                if (fresh) listeners.evaluated(evaluation.evaluate(0))
                TrainingLoop(
                        LoopSettings(
                            spec.name,
                            stage.id,
                            StageBudget.of(stage.budget, plannedSteps),
                            stage.lr,
                            stage.clipNorm,
                            stage.logEvery.steps,
                            seed = experiment.seed,
                        ),
                        optimizer,
                        objective,
                        ChatBatches(chat, producers),
                        evaluation,
                        checkpoints,
                        listeners,
                        Execution.lossScaler(experiment),
                        CheckpointTrigger(CheckpointPolicy(), stop),
                    )
                    .run()
            } finally {
                (optimizer as? AutoCloseable)?.close()
                adaptedStore?.close()
            }
            // The stage's result is its checkpoint (merged when adapted): what every later stage
            // loads.
            weightsOf = null
            loadWeightsOf(stage.id)
        }

    private companion object {
        /** Held-out batches of the validation loss. */
        const val VALIDATION_BATCHES = 2
    }
}
