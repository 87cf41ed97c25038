package looplab.pipelines.train

import looplab.curriculum.data.Batcher
import looplab.curriculum.data.Seeds
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.data.TokenBatch

/**
 * The batches of a training stage. Batch `i` holds samples `i·B … i·B + B - 1` of the mixture, so
 * it is a pure function of `i`: producers can make batches in any order, and a resumed run
 * continues with exactly the batch it would have seen.
 */
public class TrainingData(private val mixture: TaskMixture, private val batcher: Batcher, private val batchSize: Int, seed: Long) {
    private val heldOut = TaskMixture(mixture.tasks, Seeds.mix(seed, VALIDATION_STREAM))

    public fun batch(index: Long): TokenBatch =
        batcher.batch((0 until batchSize).map { mixture.sample(index * batchSize + it).example })

    /** Batches from a stream with another seed: loss on them measures generalisation, not recall. */
    public fun validationBatches(count: Int = 4): List<TokenBatch> =
        (0 until count).map { b -> batcher.batch((0 until batchSize).map { heldOut.sample(b.toLong() * batchSize + it).example }) }

    private companion object {
        const val VALIDATION_STREAM = 0x56414C49L
    }
}
