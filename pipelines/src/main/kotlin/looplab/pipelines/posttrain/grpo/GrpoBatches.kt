package looplab.pipelines.posttrain.grpo

import looplab.pipelines.train.Batches

/**
 * GRPO's batches: optimizer step `s` trains on generation batch `s / μ` (its update `s % μ`), made
 * on the training thread when the first of its updates asks for it, since sampling runs the model.
 */
internal class GrpoBatches(private val maker: RolloutMaker, private val updatesPerBatch: Int) :
    Batches<GrpoBatch> {
    /** The generation batch being trained on; saved with a checkpoint taken between its updates. */
    var current: Rollout? = null
        private set

    override fun next(step: Long): GrpoBatch {
        val index = step / updatesPerBatch
        if (current?.index != index) current = maker.make(index)
        return GrpoBatch(current!!, (step % updatesPerBatch).toInt())
    }

    /** Continues with [rollout] (a resumed stage between the updates of one generation batch). */
    fun restore(rollout: Rollout) {
        current = rollout
    }

    override fun close() {}
}
