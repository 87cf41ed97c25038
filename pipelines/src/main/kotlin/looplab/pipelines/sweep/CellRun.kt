package looplab.pipelines.sweep

import com.github.ajalt.mordant.terminal.Terminal
import java.net.InetAddress
import java.nio.file.Files
import java.time.LocalDateTime
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.SpecJson
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner

/**
 * Runs one cell of a sweep in this process, whichever executor started it: the cell's run folder is
 * fixed, so a second start continues from its checkpoints. The cell records its own state in
 * `status.json` (running, then complete or failed; `terminated` if a signal ends the JVM first),
 * which is how a sweep follows its cells without Slurm's accounting.
 */
public class CellRun(
    private val folder: SweepFolder,
    private val registry: TaskRegistry,
    private val terminal: Terminal = Terminal(),
) {

    /** Runs cell [index]; true when it is complete (now or already). */
    public fun run(index: Int, command: List<String> = emptyList()): Boolean {
        val manifest = folder.manifest()
        val cell =
            manifest.cells.getOrNull(index)
                ?: throw SweepFolderException(
                    "${folder.root}: no cell $index (the sweep has ${manifest.cells.size}: 0..${manifest.cells.size - 1})"
                )
        val previous = folder.status(cell)
        if (previous?.state == "complete") {
            terminal.println("Cell ${cell.id} is already complete.")
            return true
        }
        val spec =
            SpecJson.decode(
                Files.readString(folder.cellDir(cell).resolve("plan.json")),
                "${folder.cellDir(cell).resolve("plan.json")}",
            )
        val running =
            CellStatus(
                state = "running",
                attempt = (previous?.attempt ?: 0) + 1,
                host = hostName(),
                job = slurmJob(),
                started = LocalDateTime.now().toString(),
                resumedFromStep = checkpointStep(cell),
            )
        folder.writeStatus(cell, running)
        running.resumedFromStep?.let {
            terminal.println(
                "Cell ${cell.id}: attempt ${running.attempt}, continuing from the checkpoint at step $it"
            )
        }
        // scancel, preemption and a time limit send SIGTERM; the JVM runs this hook before it
        // exits.
        val onSignal = Thread {
            folder.writeStatus(
                cell,
                running.copy(
                    state = "terminated",
                    ended = LocalDateTime.now().toString(),
                    message = "stopped by a signal",
                ),
            )
        }
        Runtime.getRuntime().addShutdownHook(onSignal)
        val outcome =
            try {
                val result =
                    Runner(registry, terminal)
                        .run(spec, RunOptions(resume = folder.runDir(cell), command = command))
                if (result.succeeded) running.copy(state = "complete")
                else
                    running.copy(
                        state = "failed",
                        message = "a variant failed (see run/summary.json)",
                    )
            } catch (e: RuntimeException) {
                finish(
                    cell,
                    running.copy(state = "failed", message = e.message ?: e::class.simpleName),
                    onSignal,
                )
                throw e
            }
        finish(cell, outcome, onSignal)
        return outcome.state == "complete"
    }

    private fun finish(cell: SweepCell, status: CellStatus, onSignal: Thread) {
        Runtime.getRuntime().removeShutdownHook(onSignal)
        folder.writeStatus(cell, status.copy(ended = LocalDateTime.now().toString()))
    }

    /** The step of the latest valid checkpoint in the cell's run folder, if it has one. */
    private fun checkpointStep(cell: SweepCell): Long? {
        val variants = folder.runDir(cell).resolve("checkpoints")
        if (!Files.isDirectory(variants)) return null
        // A stage's checkpoints are step-N folders, each with its checkpoint.json; a .partial one
        // is being written.
        return Files.walk(variants)
            .use { paths ->
                paths
                    .filter {
                        it.fileName.toString() == "checkpoint.json" &&
                            it.parent.fileName.toString().startsWith("step-") &&
                            !it.parent.fileName.toString().endsWith(".partial")
                    }
                    .map { it.parent.parent }
                    .distinct()
                    .toList()
            }
            .mapNotNull { runCatching { Checkpoint(it).latest()?.state?.step }.getOrNull() }
            .maxOrNull()
    }

    private fun hostName(): String =
        System.getenv("SLURMD_NODENAME")
            ?: runCatching { InetAddress.getLocalHost().hostName }.getOrDefault("unknown")

    private fun slurmJob(): String? {
        val array = System.getenv("SLURM_ARRAY_JOB_ID") ?: return System.getenv("SLURM_JOB_ID")
        return "${array}_${System.getenv("SLURM_ARRAY_TASK_ID")}"
    }
}
