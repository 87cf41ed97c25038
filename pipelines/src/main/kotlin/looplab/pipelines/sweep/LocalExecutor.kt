package looplab.pipelines.sweep

import java.nio.file.Files
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/**
 * Runs a sweep's cells on this machine: one child process per slot (a CPU slot, or a GPU given to
 * the child through `CUDA_VISIBLE_DEVICES`), each the same `sweep-cell` command a Slurm array task
 * runs. A cell whose process ends unfinished is started again from its checkpoints, up to the
 * sweep's retries. Interrupting the sweep stops its children (they record `terminated`).
 */
public class LocalExecutor(
    private val folder: SweepFolder,
    /** Extra environment per slot; its size is how many cells run at once. */
    private val slots: List<Map<String, String>>,
    private val log: (String) -> Unit = ::println,
) {
    /** Runs every cell that is not complete; true when all are complete at the end. */
    public fun run(): Boolean {
        val manifest = folder.manifest()
        val queue =
            ConcurrentLinkedQueue(manifest.cells.filter { folder.status(it)?.state != "complete" })
        val starts = ConcurrentHashMap<Int, Int>()
        val children = ConcurrentHashMap.newKeySet<Process>()
        val stopChildren = thread(start = false) { children.forEach { it.destroy() } }
        Runtime.getRuntime().addShutdownHook(stopChildren)
        try {
            val workers =
                slots.mapIndexed { slot, env ->
                    thread(name = "sweep-slot-$slot") {
                        while (!Files.exists(folder.cancelMark)) {
                            val cell = queue.poll() ?: break
                            val attempt = starts.merge(cell.index, 1) { a, b -> a + b }!!
                            log(
                                "[slot $slot] ${cell.id}: start${if (attempt > 1) " (again, from its checkpoints)" else ""}"
                            )
                            val process =
                                start(manifest.launcher, cell, env).also { children += it }
                            // `looplab sweep --cancel` marks the folder; a running cell is stopped
                            // then too.
                            while (!process.waitFor(1, TimeUnit.SECONDS)) if (
                                Files.exists(folder.cancelMark)
                            )
                                process.destroy()
                            val code = process.exitValue()
                            children -= process
                            val state = folder.status(cell)?.state ?: "not started"
                            log("[slot $slot] ${cell.id}: $state (exit $code)")
                            if (
                                state != "complete" &&
                                    attempt <= manifest.retries &&
                                    !Files.exists(folder.cancelMark)
                            )
                                queue += cell
                        }
                    }
                }
            workers.forEach { it.join() }
        } finally {
            runCatching { Runtime.getRuntime().removeShutdownHook(stopChildren) }
        }
        return manifest.cells.all { folder.status(it)?.state == "complete" }
    }

    private fun start(launcher: List<String>, cell: SweepCell, env: Map<String, String>): Process {
        val dir = folder.cellDir(cell)
        Files.createDirectories(dir)
        val builder =
            ProcessBuilder(
                    launcher +
                        listOf(
                            "sweep-cell",
                            folder.root.toAbsolutePath().toString(),
                            cell.index.toString(),
                        )
                )
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("log.txt").toFile()))
        // One OpenMP thread per cell unless told otherwise: cells share the machine's cores.
        builder.environment().putIfAbsent("OMP_NUM_THREADS", "1")
        builder.environment().putAll(env)
        return builder.start()
    }

    public companion object {
        /** [count] CPU slots. */
        public fun cpuSlots(count: Int): List<Map<String, String>> = List(count) { emptyMap() }

        /** One slot per GPU, each child seeing only its GPU (as device 0). */
        public fun gpuSlots(gpus: List<Int>): List<Map<String, String>> =
            gpus.map { mapOf("CUDA_VISIBLE_DEVICES" to it.toString()) }

        /**
         * GPUs that nothing else is using, from `nvidia-smi --query-gpu=index,memory.used
         * --format=csv,noheader,nounits` output: a GPU counts as free below [busyMiB] of memory in
         * use.
         */
        public fun freeGpus(nvidiaSmi: String, busyMiB: Int = 1024): List<Int> =
            nvidiaSmi.lines().mapNotNull { line ->
                val (index, used) =
                    line.split(',').map { it.trim() }.takeIf { it.size == 2 }
                        ?: return@mapNotNull null
                index.toIntOrNull()?.takeIf { (used.toIntOrNull() ?: Int.MAX_VALUE) < busyMiB }
            }
    }
}
