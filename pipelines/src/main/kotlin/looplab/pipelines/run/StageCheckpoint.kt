package looplab.pipelines.run

import looplab.curriculum.schedule.TaskCurriculum
import looplab.models.eager.ParameterStore
import looplab.models.optim.Optimizer
import looplab.pipelines.train.Checkpointing
import looplab.pipelines.train.TrainingState

/**
 * A training stage's [Checkpointing] in a [Checkpoint] folder: the weights of [store], the state of
 * [optimizer] and of the [curriculum] go in with the loop's state. With [resume], an existing
 * checkpoint is continued from; otherwise the stage starts over.
 */
public class StageCheckpoint(
    private val checkpoint: Checkpoint,
    private val store: ParameterStore,
    private val optimizer: Optimizer,
    private val curriculum: TaskCurriculum? = null,
    private val resume: Boolean = false,
) : Checkpointing {
    override fun resume(): TrainingState? {
        if (!resume) return null
        // The newest checkpoint that passes every check; none at all starts the stage over, only
        // damaged ones are an error.
        val loaded = checkpoint.latest(store) ?: return null
        checkpoint.restore(store, optimizer, loaded)
        loaded.state.curriculum?.let { saved -> curriculum?.restore(saved) }
        return loaded.state
    }

    override fun save(state: TrainingState): Unit =
        checkpoint.save(state.copy(curriculum = curriculum?.state), store, optimizer)

    override val lastStep: Long?
        get() = if (checkpoint.exists) runCatching { checkpoint.state().step }.getOrNull() else null
}
