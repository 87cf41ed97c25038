package looplab.pipelines.cli

import looplab.pipelines.train.StopRequest
import sun.misc.Signal

/**
 * Ctrl-C (SIGINT) and SIGTERM ask a run to save a checkpoint at the next step and stop, instead of
 * killing the JVM mid-write. A second signal stops at once (the last saved checkpoint stays).
 */
internal object StopSignals {
    fun install(stop: StopRequest) {
        for (name in listOf("INT", "TERM")) {
            try {
                Signal.handle(Signal(name)) {
                    if (stop.requested) {
                        System.err.println(
                            "\nlooplab: stopping now, without saving (the last checkpoint is kept)"
                        )
                        Runtime.getRuntime().halt(exitCode(name))
                    }
                    System.err.println(
                        "\nlooplab: SIG$name: saving a checkpoint after this step, then stopping (again to stop at once)"
                    )
                    stop.request(name)
                }
            } catch (e: IllegalArgumentException) {
                // The platform has no such signal, or the JVM reserves it (-Xrs): the default
                // behaviour stays.
            }
        }
    }

    /** The shell's convention: 128 + the signal number. */
    fun exitCode(signal: String?): Int =
        when (signal) {
            "INT" -> 130
            "TERM" -> 143
            else -> 1
        }
}
