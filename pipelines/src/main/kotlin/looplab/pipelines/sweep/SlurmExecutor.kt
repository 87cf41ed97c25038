package looplab.pipelines.sweep

import java.nio.file.Files
import java.time.Duration
import looplab.dsl.UserFacingError

/** Slurm's job states that mean a task will still run or is running. */
public object SlurmStates {
    public val active: Set<String> =
        setOf(
            "PENDING",
            "RUNNING",
            "CONFIGURING",
            "COMPLETING",
            "SUSPENDED",
            "REQUEUED",
            "REQUEUE_HOLD",
            "REQUEUE_FED",
            "RESIZING",
            "SIGNALING",
            "STAGE_OUT",
            "STOPPED",
        )
}

/** Runs a command and returns its exit status and output (stdout and stderr together). */
public fun interface Shell {
    public fun run(command: List<String>): ShellResult

    public companion object {
        public val system: Shell = Shell { command ->
            val process =
                try {
                    ProcessBuilder(command).redirectErrorStream(true).start()
                } catch (e: java.io.IOException) {
                    throw SlurmException(
                        "cannot run ${command.first()}: ${e.message} (is Slurm installed on this machine?)"
                    )
                }
            val out = process.inputStream.bufferedReader().readText()
            ShellResult(process.waitFor(), out)
        }
    }
}

public data class ShellResult(val code: Int, val output: String)

/** A Slurm command failed; the message carries its output. */
public class SlurmException(message: String) : RuntimeException(message), UserFacingError

/** How a followed sweep ended. */
public enum class SweepOutcome {
    Complete,
    Failed,
    Cancelled,
    Detached,
}

/**
 * Runs a sweep's cells as one Slurm job array. The array script runs `sweep-cell <dir>
 * $SLURM_ARRAY_TASK_ID`, so a task index is a cell index. The follower polls `squeue` (ended tasks
 * stay listed for the controller's MinJobAge) and reads the status files the cells write, so it
 * needs no accounting database (`sacct` answers only with slurmdbd). A cell that ended unfinished
 * (failed, preempted, timed out, cancelled alone) is submitted again, up to the sweep's retries,
 * and continues from its checkpoints. When the whole array is cancelled (`scancel <job>`: two or
 * more cells cancelled in one poll, or a cell cancelled before it started) or `looplab sweep
 * --cancel` marks the folder, the follower stops and submits nothing more; `looplab sweep --resume`
 * continues later.
 */
public class SlurmExecutor(
    private val folder: SweepFolder,
    private val shell: Shell = Shell.system,
    private val log: (String) -> Unit = ::println,
) {
    /**
     * The array script, also written to `sweep.sbatch`; `sbatch --array=...` on the command line
     * picks cells.
     */
    public fun script(manifest: SweepManifest): String {
        val r = manifest.slurm
        val root = folder.root.toAbsolutePath()
        val directives =
            listOfNotNull(
                "--job-name=looplab-${manifest.experiment}",
                "--array=0-${manifest.cells.size - 1}" + (r.parallel?.let { "%$it" } ?: ""),
                "--output=$root/cells/slurm-%A_%a.out",
                "--cpus-per-task=${r.cpusPerTask}",
                r.gpusPerTask?.let { "--gpus-per-task=$it" },
                r.partition?.let { "--partition=$it" },
                r.time?.let { "--time=$it" },
                r.account?.let { "--account=$it" },
            )
        return buildString {
            appendLine("#!/bin/bash")
            appendLine(
                "# looplab sweep of ${manifest.experiment}: task i runs cell i (see sweep.json)."
            )
            directives.forEach { appendLine("#SBATCH $it") }
            appendLine("export OMP_NUM_THREADS=\${SLURM_CPUS_PER_TASK:-1}")
            val command = manifest.launcher + listOf("sweep-cell", root.toString())
            appendLine("exec ${command.joinToString(" ") { quote(it) }} \"\$SLURM_ARRAY_TASK_ID\"")
        }
    }

    /**
     * Submits [cells] (all of them the first time) as one array job and records it in `sweep.json`.
     */
    public fun submit(cells: List<Int>): Submission {
        val manifest = folder.manifest()
        val script = folder.root.resolve(SCRIPT)
        if (!Files.exists(script)) folder.write(SCRIPT, script(manifest))
        val array = compress(cells) + (manifest.slurm.parallel?.let { "%$it" } ?: "")
        val result =
            shell.run(
                listOf("sbatch", "--parsable", "--array=$array", script.toAbsolutePath().toString())
            )
        if (result.code != 0)
            throw SlurmException("sbatch failed (exit ${result.code}): ${result.output.trim()}")
        val job = result.output.trim().lines().last().substringBefore(';').trim()
        if (job.toLongOrNull() == null)
            throw SlurmException("sbatch answered \"${result.output.trim()}\", not a job id")
        val submission = Submission(job, cells)
        folder.writeManifest(manifest.copy(submissions = manifest.submissions + submission))
        log("submitted job $job: array $array (${cells.size} cells)")
        return submission
    }

    /** Each cell's Slurm state in its latest submission, where the controller still lists it. */
    public fun queue(manifest: SweepManifest = folder.manifest()): Map<Int, String> =
        queueOrNull(manifest)
            ?: throw SlurmException("squeue did not answer (is slurmctld running?)")

    /**
     * As [queue], or null when squeue failed for another reason than a job the controller has
     * forgotten.
     */
    private fun queueOrNull(manifest: SweepManifest): Map<Int, String>? {
        val latest = HashMap<Int, String>()
        manifest.submissions.forEach { s -> s.cells.forEach { latest[it] = s.job } }
        val states = HashMap<Int, String>()
        for (job in latest.values.distinct()) {
            // A job the controller has forgotten makes squeue fail; its cells then count as not
            // listed.
            val result =
                shell.run(listOf("squeue", "-h", "-r", "--states=all", "-j", job, "-o", "%F|%K|%T"))
            if (result.code != 0) {
                if ("Invalid job id" in result.output) continue
                return null
            }
            for (line in result.output.lines()) {
                val (array, task, state) = line.split('|').takeIf { it.size == 3 } ?: continue
                val index = task.trim().toIntOrNull() ?: continue
                if (array.trim() == job && latest[index] == job)
                    states[index] = state.trim().substringBefore(' ')
            }
        }
        return states
    }

    /** Follows the sweep until every cell has ended; resubmits cells that ended unfinished. */
    public fun follow(poll: Duration): SweepOutcome {
        while (true) {
            if (Files.exists(folder.cancelMark))
                return SweepOutcome.Cancelled.also {
                    log("the sweep was cancelled (${folder.cancelMark.fileName} is set)")
                }
            val manifest = folder.manifest()
            // Without an answer from the controller nothing is decided: a running cell must not be
            // submitted twice.
            val states = queueOrNull(manifest)
            if (states == null) {
                Thread.sleep(poll.toMillis())
                continue
            }
            val views = manifest.cells.map { CellView(it, folder.status(it), states[it.index]) }
            val unfinished =
                views.filter {
                    it.state != "complete" && states[it.cell.index] !in SlurmStates.active
                }
            val cancelled = unfinished.filter { states[it.cell.index] == "CANCELLED" }
            val job = { v: CellView -> manifest.submissions.last { v.cell.index in it.cells }.job }
            val neverStarted =
                cancelled.filter { v -> v.status?.job?.startsWith(job(v) + "_") != true }
            if (cancelled.size >= 2 || neverStarted.isNotEmpty()) {
                folder.write(
                    folder.cancelMark.fileName.toString(),
                    "the array was cancelled: ${cancelled.joinToString { it.cell.id }}\n",
                )
                log(
                    "the sweep's array was cancelled (${cancelled.size} cells); nothing more is submitted. Continue with: looplab sweep --resume ${folder.root}"
                )
                return SweepOutcome.Cancelled
            }
            val again =
                unfinished.filter { v ->
                    manifest.submissions.count { v.cell.index in it.cells } <= manifest.retries
                }
            val givenUp = unfinished - again.toSet()
            if (again.isNotEmpty()) {
                again.forEach {
                    log(
                        "${it.cell.id}: ${states[it.cell.index] ?: "gone from the queue"}, ${it.status?.state ?: "never started"}; submitting it again"
                    )
                }
                submit(again.map { it.cell.index })
                continue
            }
            if (views.all { it.state == "complete" || it in givenUp }) {
                givenUp.forEach {
                    log(
                        "${it.cell.id}: gave up after ${manifest.retries + 1} submissions (${it.status?.state ?: "never started"})"
                    )
                }
                return if (givenUp.isEmpty()) SweepOutcome.Complete else SweepOutcome.Failed
            }
            Thread.sleep(poll.toMillis())
        }
    }

    /**
     * Marks the folder cancelled and cancels every job the sweep submitted; cells keep their
     * checkpoints.
     */
    public fun cancel() {
        folder.write(
            folder.cancelMark.fileName.toString(),
            "cancelled with looplab sweep --cancel\n",
        )
        val jobs = folder.manifest().submissions.map { it.job }.distinct()
        if (jobs.isNotEmpty()) shell.run(listOf("scancel") + jobs)
        log("cancelled ${jobs.size} job(s): ${jobs.joinToString()}")
    }

    public companion object {
        public const val SCRIPT: String = "sweep.sbatch"

        /** `0-3,5,7-8`: Slurm's array syntax for a set of indices. */
        public fun compress(indices: List<Int>): String {
            val sorted = indices.distinct().sorted()
            val parts = mutableListOf<String>()
            var start = 0
            while (start < sorted.size) {
                var end = start
                while (end + 1 < sorted.size && sorted[end + 1] == sorted[end] + 1) end++
                parts += if (end == start) "${sorted[start]}" else "${sorted[start]}-${sorted[end]}"
                start = end + 1
            }
            return parts.joinToString(",")
        }

        private fun quote(s: String): String =
            if (s.matches(Regex("[A-Za-z0-9_./=:+-]+"))) s else "'" + s.replace("'", "'\\''") + "'"
    }
}
