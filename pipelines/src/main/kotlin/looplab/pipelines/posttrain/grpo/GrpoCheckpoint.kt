package looplab.pipelines.posttrain.grpo

import java.nio.file.Files
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.train.Checkpointing
import looplab.pipelines.train.TrainingState

/**
 * A GRPO stage's checkpoint: the stage checkpoint's weights, optimizer and loop state, plus the
 * generation batch in training (`rollout.bin`: its tokens, advantages and recorded log-probs), so
 * that a stage stopped between two of the μ updates of a batch continues on the very same batch.
 * Sampling needs no saved generator state: each batch's sampler is seeded from (seed, batch index).
 */
internal class GrpoCheckpoint(
    private val checkpoint: Checkpoint,
    private val stage: Checkpointing,
    private val batches: GrpoBatches,
    private val updatesPerBatch: Int,
) : Checkpointing {
    override fun resume(): TrainingState? {
        val state = stage.resume() ?: return null
        val file = checkpoint.dir.resolve(ROLLOUT)
        if (state.step % updatesPerBatch != 0L && Files.exists(file)) {
            val rollout = Rollout.read(file)
            // A rollout of another batch (a crash between the two writes) is not used: that batch
            // is sampled again.
            if (rollout.index == state.step / updatesPerBatch) batches.restore(rollout)
        }
        return state
    }

    override fun save(state: TrainingState) {
        stage.save(state)
        batches.current
            ?.takeIf { state.step % updatesPerBatch != 0L }
            ?.write(checkpoint.dir.resolve(ROLLOUT))
    }

    override val lastStep: Long?
        get() = stage.lastStep

    private companion object {
        const val ROLLOUT = "rollout.bin"
    }
}
