package looplab.curriculum.data

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/**
 * Batches made ahead of time by [producers] coroutines off the training thread. Producer p makes
 * batches p, p + N, p + 2N... from the pure function [make] and the consumer reads them round-robin,
 * so the stream is the same whatever N is; bounded channels hold producers back when training is
 * slower (backpressure). Closing cancels the producers.
 */
public class BatchStream<T : Any>(
    private val producers: Int = 2,
    capacity: Int = 4,
    /** The first batch index, to resume a stream part-way. */
    private val start: Long = 0,
    private val make: (index: Long) -> T,
) : AutoCloseable {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val channels = List(producers) { Channel<Result<T>>(capacity) }
    private var next = start

    init {
        require(producers >= 1) { "need at least one producer, got $producers" }
        for (p in 0 until producers) {
            scope.launch {
                var index = start + p
                while (isActive) {
                    // A failure is passed on to the consumer rather than lost in a background thread.
                    channels[p].send(runCatching { make(index) })
                    index += producers
                }
            }
        }
    }

    /** The next batch, waiting for it if it is not ready. */
    public fun next(): T = runBlocking { channels[((next - start) % producers).toInt()].receive() }.getOrThrow().also { next++ }

    /** The index the next call to [next] returns. */
    public val position: Long get() = next

    /** The stream as a cold [Flow], for coroutine consumers. */
    public fun asFlow(): Flow<T> = flow { while (true) emit(next()) }

    override fun close() {
        scope.cancel()
        channels.forEach { it.cancel() }
    }
}
