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
        if (!resume || !checkpoint.exists) return null
        val state = checkpoint.state()
        checkpoint.restore(store, optimizer, state)
        state.curriculum?.let { saved -> curriculum?.restore(saved) }
        return state
    }

    override fun save(state: TrainingState): Unit = checkpoint.save(state.copy(curriculum = curriculum?.state), store, optimizer)

    override val lastStep: Long get() = if (checkpoint.exists) checkpoint.state().step else 0
}
