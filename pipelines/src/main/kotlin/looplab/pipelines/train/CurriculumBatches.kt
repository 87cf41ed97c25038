package looplab.pipelines.train

import looplab.curriculum.data.BatchStream
import looplab.curriculum.data.TokenBatch
import looplab.curriculum.schedule.TaskCurriculum

/**
 * A pretraining stage's batches, in segments from one evaluation point to the next. The curriculum
 * decides only at those points, so every batch of a segment is drawn with the draw it held at the
 * segment's start, and producers never work past the segment's end: batches stay a pure function of
 * (seed, index, curriculum state at the segment start), whatever the number of producers.
 */
public class CurriculumBatches(
    private val data: TrainingData,
    private val curriculum: TaskCurriculum?,
    /** Steps between evaluation points; null: one segment to the end. */
    private val evalEvery: Long?,
    private val producers: Int = 2,
) : Batches<TokenBatch> {
    private var stream: BatchStream<TokenBatch>? = null
    private var segmentEnd: Long? = null

    override fun next(step: Long): TokenBatch {
        val end = segmentEnd
        if (stream == null || (end != null && step >= end)) {
            stream?.close()
            val draw = curriculum?.draw()
            segmentEnd = evalEvery?.let { (step / it + 1) * it }
            stream = BatchStream(producers, start = step, end = segmentEnd) { data.batch(it, draw) }
        }
        return stream!!.next()
    }

    override fun close() {
        stream?.close()
        stream = null
    }
}
