package looplab.curriculum.data

import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/**
 * Batches made ahead of time by [producers] coroutines off the training thread. Producer p makes
 * batches p, p + N, p + 2N... from the pure function [make] and the consumer reads them
 * round-robin, so the stream is the same whatever N is; bounded channels hold producers back when
 * training is slower (backpressure). With [end], producers stop there: a curriculum segment never
 * makes batches past the next decision point. The producers run on threads of their own, which
 * [close] cancels and shuts down, so a closed stream leaves no thread behind.
 */
public class BatchStream<T : Any>(
    private val producers: Int = 2,
    capacity: Int = 4,
    /** The first batch index, to resume a stream part-way. */
    private val start: Long = 0,
    /** One past the last batch index; null: endless. */
    private val end: Long? = null,
    private val make: (index: Long) -> T,
) : AutoCloseable {
    private val started = java.util.concurrent.ConcurrentLinkedQueue<Thread>()
    private val executor =
        Executors.newFixedThreadPool(producers.coerceAtLeast(1)) { r ->
            Thread(r, "looplab-producer-${threads.incrementAndGet()}").apply {
                isDaemon = true
                started += this
            }
        }
    private val scope = CoroutineScope(SupervisorJob() + executor.asCoroutineDispatcher())
    private val channels = List(producers.coerceAtLeast(1)) { Channel<Result<T>>(capacity) }
    private var next = start

    init {
        require(producers >= 1) { "need at least one producer, got $producers" }
        for (p in 0 until producers) {
            scope.launch {
                var index = start + p
                while (isActive && (end == null || index < end)) {
                    // A failure is passed on to the consumer rather than lost in a background
                    // thread.
                    channels[p].send(runCatching { make(index) })
                    index += producers
                }
            }
        }
    }

    /** The next batch, waiting for it if it is not ready. */
    public fun next(): T {
        check(end == null || next < end) { "the stream ends at batch $end" }
        return runBlocking { channels[((next - start) % producers).toInt()].receive() }
            .getOrThrow()
            .also { next++ }
    }

    /** The index the next call to [next] returns. */
    public val position: Long
        get() = next

    /** The stream as a cold [Flow], for coroutine consumers. */
    public fun asFlow(): Flow<T> = flow { while (end == null || next < end) emit(next()) }

    override fun close() {
        scope.cancel()
        channels.forEach { it.cancel() }
        executor.shutdownNow()
        executor.awaitTermination(10, TimeUnit.SECONDS)
        // A terminated pool's threads may still be on their way out; wait until they are gone.
        started.forEach { it.join(10_000) }
    }

    private companion object {
        val threads = AtomicInteger()
    }
}
