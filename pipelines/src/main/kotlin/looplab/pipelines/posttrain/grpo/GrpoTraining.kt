package looplab.pipelines.posttrain.grpo

import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.text.Tokenizer
import looplab.dsl.Backend
import looplab.dsl.CheckpointPolicy
import looplab.dsl.GrpoSpec
import looplab.dsl.ParamRole
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.adapters.HraModel
import looplab.models.decode.Generator
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.optim.LossScaler
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.StageCheckpoint
import looplab.pipelines.sft.AdaptedCheckpoint
import looplab.pipelines.train.CheckpointTrigger
import looplab.pipelines.train.Execution
import looplab.pipelines.train.LoopSettings
import looplab.pipelines.train.StageBudget
import looplab.pipelines.train.StopRequest
import looplab.pipelines.train.TrainingLoop
import looplab.pipelines.train.TrainingState

/**
 * One GRPO stage on the shared [TrainingLoop]: its batches sample and score ([RolloutMaker]), its
 * objective is the clipped-ratio loss ([GrpoObjective]), evaluation is held-out greedy accuracy
 * ([GrpoEvaluation]). The loop counts optimizer steps: `budget × μ`, μ per generation batch.
 *
 * [store] holds the starting weights when this is made: they are copied into the frozen reference
 * (when β > 0) before a resumed stage's checkpoint replaces them.
 *
 * With [merged] (the base model's store, [model] then an [HraModel] around that base), the stage
 * trains adapters: its resumable state (base and factors apart, optimizer, rollout) lives in
 * `<checkpoint>.adapted`, and every save also merges `W + A·B` into [merged] and writes it to
 * [checkpoint], which later stages and commands load as a plain model (as an SFT stage with
 * adapters does).
 */
internal class GrpoTraining(
    private val stage: GrpoSpec,
    private val variant: String,
    private val model: LanguageModel,
    private val store: ParameterStore,
    private val backend: EagerBackend,
    private val executor: Executor,
    private val kind: Backend,
    private val tokenizer: Tokenizer,
    private val prompts: ChatMixture,
    private val seed: Long,
    private val checkpoint: Checkpoint,
    private val resume: Boolean,
    private val listener: TrainingListener,
    private val scaler: LossScaler? = null,
    private val stop: StopRequest = StopRequest(),
    /** The model's context: evaluation's prompt and answer never exceed it. */
    private val contextLength: Int,
    private val merged: ParameterStore? = null,
    /** What the evaluation asks (held-out split); by default the prompts. */
    private val evalQuestions: ChatMixture = prompts,
) {
    private val adapted: Checkpoint? =
        merged?.let {
            Checkpoint(checkpoint.dir.resolveSibling("${checkpoint.dir.fileName}.adapted"))
        }

    private val generator = Generator(model, store, executor, backend.manager)

    /** Held-out accuracy, greedy; the runner also measures it before the first step. */
    val evaluation: GrpoEvaluation =
        GrpoEvaluation(
            variant,
            stage.id,
            stage.evalEvery?.let { it.steps * stage.updatesPerBatch },
            generator,
            tokenizer,
            evalQuestions,
            stage.evalSamples,
            contextLength,
        )

    /**
     * Trains to the end of the budget (from the checkpoint when resuming one); measures the start
     * first on a fresh stage.
     */
    fun run(): TrainingState {
        val multipliers = if (stage.adaptersOnly) adaptersOnly() else emptyMap()
        val reference =
            if (stage.beta > 0.0)
                ParameterStore(model.parameters, backend, seed).also { it.load(store.snapshot()) }
            else null
        val optimizer =
            Execution.optimizer(kind, stage.optimizer, store, backend, stage.lr.peak, multipliers)
        try {
            val batches =
                GrpoBatches(
                    RolloutMaker(
                        stage,
                        model,
                        store,
                        reference,
                        executor,
                        generator,
                        tokenizer,
                        prompts,
                        seed,
                    ),
                    stage.updatesPerBatch,
                )
            val stageCheckpoint =
                if (adapted != null)
                    AdaptedCheckpoint(
                        adapted,
                        checkpoint,
                        model as HraModel,
                        store,
                        merged!!,
                        optimizer,
                        resume,
                    )
                else StageCheckpoint(checkpoint, store, optimizer, resume = resume)
            val training = adapted ?: checkpoint
            val checkpoints =
                GrpoCheckpoint(training, stageCheckpoint, batches, stage.updatesPerBatch)
            if (!(resume && training.exists)) listener.evaluated(evaluation.evaluate(0))
            return TrainingLoop(
                    LoopSettings(
                        variant,
                        stage.id,
                        StageBudget(stage.budget.steps * stage.updatesPerBatch),
                        stage.lr,
                        stage.clipNorm,
                        stage.logEvery.steps,
                        seed = seed,
                    ),
                    optimizer,
                    GrpoObjective(stage, executor, model, store),
                    batches,
                    evaluation,
                    checkpoints,
                    listener,
                    scaler,
                    CheckpointTrigger(CheckpointPolicy(every = null, minutes = null), stop),
                )
                .run()
        } finally {
            (optimizer as? AutoCloseable)?.close()
            reference?.close()
        }
    }

    /**
     * Learning-rate multipliers that leave every parameter but the HRA adapters where it is (a rate
     * of 0 moves nothing, decay included).
     */
    private fun adaptersOnly(): Map<ParamRole, Double> {
        val hra =
            model as? HraModel
                ?: throw GrpoDataException(
                    "stage ${stage.id} trains only the adapters, but the model it starts from has none (add adapters(...) to the sft stage it continues)"
                )
        check(hra.adapterParameters.all { it.role == ParamRole.Adapter })
        return ParamRole.entries.associateWith { if (it == ParamRole.Adapter) 1.0 else 0.0 }
    }
}
