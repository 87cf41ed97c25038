package looplab.pipelines.sft

import looplab.curriculum.chat.ChatBatch
import looplab.curriculum.data.BatchStream
import looplab.pipelines.train.Batches

/**
 * An SFT stage's batches, made ahead by [producers] threads; batch `i` depends on `i` alone
 * ([SftData.batch]).
 */
public class ChatBatches(private val data: SftData, private val producers: Int = 2) :
    Batches<ChatBatch> {
    private var stream: BatchStream<ChatBatch>? = null

    override fun next(step: Long): ChatBatch {
        val current =
            stream ?: BatchStream(producers, start = step) { data.batch(it) }.also { stream = it }
        return current.next()
    }

    override fun close() {
        stream?.close()
        stream = null
    }
}
