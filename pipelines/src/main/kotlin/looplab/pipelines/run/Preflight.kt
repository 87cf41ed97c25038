package looplab.pipelines.run

import ai.djl.engine.Engine
import java.nio.file.Files
import java.nio.file.Path
import looplab.dsl.Gpu
import looplab.dsl.UserFacingError
import looplab.pipelines.plan.Plan

/** Something that would make a run fail is known before it starts; nothing was created. */
public class PreflightException(problems: List<String>) :
    RuntimeException(problems.joinToString("\n", prefix = "cannot start the run:\n") { "  $it" }),
    UserFacingError

/**
 * Every check that can fail before training, run before the run folder is made: the device exists,
 * the runs folder can be written, the counts are in range, and a folder to resume holds readable
 * checkpoints. All problems are reported at once.
 */
public object Preflight {
    public fun check(plan: Plan, options: RunOptions) {
        val problems = mutableListOf<String>()
        if (options.producers < 1) problems += "--producers must be ≥ 1, was ${options.producers}"
        (plan.experiment.device as? Gpu)?.let { gpu ->
            val count = Engine.getInstance().gpuCount
            if (gpu.index >= count) {
                problems +=
                    "device = Gpu(${gpu.index}): this machine has ${if (count == 0) "no GPU that PyTorch can use (CPU-only natives or no CUDA device)" else "$count GPU(s), 0..${count - 1}"}; use device = Cpu"
            }
        }
        val resume = options.resume
        if (resume == null) writable(options.runsDir, "--runs-dir")?.let { problems += it }
        else {
            writable(resume, "--resume")?.let { problems += it }
            problems += checkpointProblems(resume, plan)
        }
        if (problems.isNotEmpty()) throw PreflightException(problems)
    }

    /** Null when [dir] exists as a writable folder, or could be created inside one. */
    private fun writable(dir: Path, flag: String): String? {
        var existing: Path? = dir.toAbsolutePath()
        while (existing != null && !Files.exists(existing)) existing = existing.parent
        return when {
            existing == null -> "$flag $dir: no part of that path exists"
            !Files.isDirectory(existing) -> "$flag $dir: $existing is a file, not a folder"
            !Files.isWritable(existing) -> "$flag $dir: $existing cannot be written (permissions)"
            else -> null
        }
    }

    /**
     * What is wrong with the checkpoints a resumed run would read: a stage whose checkpoints are
     * all unusable cannot resume.
     */
    private fun checkpointProblems(run: Path, plan: Plan): List<String> {
        val problems = mutableListOf<String>()
        for (model in plan.models) for (stage in plan.stages.filter { it.kind == "pretrain" }) {
            val checkpoint =
                Checkpoint(
                    run.resolve("checkpoints").resolve(model.name).resolve(stage.id),
                    plan.experiment.name,
                )
            try {
                checkpoint.latest()
            } catch (e: CheckpointException) {
                problems += "${model.name}'s ${stage.id} cannot resume: ${e.message}"
            }
        }
        return problems
    }
}
