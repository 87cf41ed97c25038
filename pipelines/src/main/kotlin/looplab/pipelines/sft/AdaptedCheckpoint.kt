package looplab.pipelines.sft

import looplab.models.adapters.HraModel
import looplab.models.eager.ParameterStore
import looplab.models.optim.Optimizer
import looplab.models.optim.OptimizerState
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.train.Checkpointing
import looplab.pipelines.train.TrainingState

/**
 * The checkpoints of a stage that trains HRA adapters. Two folders: [training] holds what resumes
 * the stage (the base weights and the adapter factors apart, the optimizer, the loop's state);
 * [merged] holds the base model's weights with every adapter merged in (`W + A·B`), which is what
 * the stage produces: later stages, `eval`, `generate` and `export` load it as a plain model. Each
 * save writes both, the training one first.
 */
public class AdaptedCheckpoint(
    private val training: Checkpoint,
    private val merged: Checkpoint,
    private val model: HraModel,
    /** The adapted model's parameters (base and adapters), which train. */
    private val adapted: ParameterStore,
    /** The base model's parameters, which receive the merged weights. */
    private val base: ParameterStore,
    private val optimizer: Optimizer,
    private val resume: Boolean,
) : Checkpointing {
    override fun resume(): TrainingState? {
        if (!resume) return null
        // The newest training checkpoint that passes every check; none at all starts the stage
        // over.
        val loaded = training.latest(adapted) ?: return null
        training.restore(adapted, optimizer, loaded)
        return loaded.state
    }

    override fun save(state: TrainingState) {
        training.save(state, adapted, optimizer)
        mergeInto(base)
        merged.save(state, base, NoOptimizerState)
    }

    /** Puts the merged weights into [store] (the base model's). */
    public fun mergeInto(store: ParameterStore): Unit = store.load(model.merge(adapted.snapshot()))

    override val lastStep: Long?
        get() = if (training.exists) runCatching { training.state().step }.getOrNull() else null

    /** The merged folder holds a finished model, not a trainer: no optimizer state goes with it. */
    private object NoOptimizerState : Optimizer {
        override val steps: Long = 0

        override fun step(lr: Double, clipNorm: Double?, gradScale: Double): Double =
            error("not a trainer")

        override fun zeroGradients() {}

        override fun snapshot(): OptimizerState = OptimizerState(0, emptyMap())

        override fun load(state: OptimizerState) {}
    }
}
