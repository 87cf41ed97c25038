package looplab.pipelines.cli

/**
 * How many threads PyTorch's intra-op pool gets. Left to itself, each PyTorch process sizes its
 * pool from the machine's cores, so two jobs on one machine run twice as many busy threads as there
 * are cores and both crawl. looplab decides instead: a `--threads` flag, else `OMP_NUM_THREADS`,
 * else the cores this process may use (which honours CPU affinity and container limits).
 */
public object TorchThreads {
    /** The count to use, and where it came from, for the log line. */
    public fun choose(
        flag: Int?,
        environment: Map<String, String> = System.getenv(),
        cores: Int = Runtime.getRuntime().availableProcessors(),
    ): Pair<Int, String> {
        if (flag != null) return flag to "--threads"
        environment["OMP_NUM_THREADS"]
            ?.trim()
            ?.toIntOrNull()
            ?.takeIf { it >= 1 }
            ?.let {
                return it to "OMP_NUM_THREADS"
            }
        return cores to "cores available"
    }

    /**
     * Applies [threads] before the PyTorch engine starts (DJL reads these properties when it
     * loads).
     */
    public fun apply(threads: Int) {
        System.setProperty("ai.djl.pytorch.num_threads", threads.toString())
        // looplab keeps tensor work on one thread, so a pool for running ops in parallel only
        // competes for cores.
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1")
    }
}
