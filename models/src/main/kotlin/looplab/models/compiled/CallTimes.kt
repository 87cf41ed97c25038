package looplab.models.compiled

/**
 * Where the host's time goes in a compiled backend's calls, summed over calls: tracing the
 * computation and finding its program, dispatching the program (on a GPU its kernels are queued, so
 * this is the interpreter's own cost), and reading the results back (on a GPU this waits for the
 * queued kernels). A benchmark reads it to tell a host-bound call from a device-bound one.
 */
public class CallTimes {
    public var calls: Long = 0
        private set

    public var traceNanos: Long = 0
        private set

    public var dispatchNanos: Long = 0
        private set

    public var readNanos: Long = 0
        private set

    internal fun add(trace: Long, dispatch: Long, read: Long) {
        calls++
        traceNanos += trace
        dispatchNanos += dispatch
        readNanos += read
    }

    public fun reset() {
        calls = 0
        traceNanos = 0
        dispatchNanos = 0
        readNanos = 0
    }
}
