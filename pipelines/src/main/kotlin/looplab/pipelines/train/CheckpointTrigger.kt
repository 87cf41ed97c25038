package looplab.pipelines.train

import looplab.dsl.CheckpointPolicy

/**
 * Decides, after each optimizer step, whether the training loop saves a checkpoint now: every
 * `policy.every` steps, every `policy.minutes` of wall time since the last save, and at once when
 * [stop] has been requested (Ctrl-C, SIGTERM), after which the loop stops.
 */
public class CheckpointTrigger(
    private val policy: CheckpointPolicy,
    private val stop: StopRequest = StopRequest(),
    private val clock: () -> Long = System::nanoTime,
) {
    private var lastSave = clock()

    /** True when the loop must stop after saving. */
    public val stopping: Boolean
        get() = stop.requested

    /** The signal that asked the run to stop, if any. */
    public val stopReason: String?
        get() = stop.reason

    /** Whether to save after [step] (an evaluation point saves anyway and then calls [saved]). */
    public fun due(step: Long): Boolean =
        stop.requested ||
            policy.every?.let { step % it.steps == 0L } == true ||
            policy.minutes?.let { clock() - lastSave >= (it * 60e9).toLong() } == true

    /** A checkpoint was just written: the timed clock starts again. */
    public fun saved() {
        lastSave = clock()
    }
}

/** Set from another thread (a signal handler) to ask a run to save and stop at the next step. */
public class StopRequest {
    @Volatile
    public var requested: Boolean = false
        private set

    /** The signal that asked, e.g. "INT" or "TERM"; null when not requested. */
    @Volatile
    public var reason: String? = null
        private set

    public fun request(reason: String) {
        this.reason = reason
        requested = true
    }
}

/**
 * A run stopped on request; [stage] and [step] say where [variant] stopped (null stage: before it
 * started).
 */
public class TrainingInterruptedException(
    public val variant: String,
    public val stage: String?,
    public val step: Long,
    public val reason: String?,
) :
    RuntimeException(
        (if (stage == null) "stopped before $variant started"
        else "$variant stopped at step $step of $stage, after saving a checkpoint") +
            " (${reason?.let { "SIG$it" } ?: "stop requested"})"
    )
