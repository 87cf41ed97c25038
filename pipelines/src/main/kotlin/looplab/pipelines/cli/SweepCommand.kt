package looplab.pipelines.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.ProgramResult
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.arguments.optional
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.choice
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.path
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.LocalDateTime
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.Gpu
import looplab.dsl.SlurmResources
import looplab.dsl.SpecJson
import looplab.dsl.SweepGrid
import looplab.dsl.UserFacingError
import looplab.pipelines.plan.Planner
import looplab.pipelines.run.RunDirectory
import looplab.pipelines.sweep.CellRun
import looplab.pipelines.sweep.CellView
import looplab.pipelines.sweep.LocalExecutor
import looplab.pipelines.sweep.Shell
import looplab.pipelines.sweep.SlurmException
import looplab.pipelines.sweep.SlurmExecutor
import looplab.pipelines.sweep.SlurmStates
import looplab.pipelines.sweep.SweepCells
import looplab.pipelines.sweep.SweepComparison
import looplab.pipelines.sweep.SweepFolder
import looplab.pipelines.sweep.SweepManifest
import looplab.pipelines.sweep.SweepOutcome
import looplab.pipelines.sweep.SweepReport

/** Thrown when a sweep's cells do not plan; lists every cell at fault. */
public class SweepPlanException(message: String) : RuntimeException(message), UserFacingError

/**
 * `looplab sweep`: a grid of cells, run by a local pool or a Slurm job array, gathered into one
 * comparison.
 */
public class SweepCommand(
    private val catalog: ExampleCatalog,
    private val launcher: () -> List<String> = Launcher::current,
    private val shell: Shell = Shell.system,
) : CliktCommand(name = "sweep") {
    override fun help(context: Context): String =
        "Run an experiment as a grid of cells (one variant, one seed, one size each) on a local pool or a Slurm job array, " +
            "resume cells that end unfinished, and gather one comparison (sweeps/<experiment>/<time>/comparison.txt)."

    private val experiment by
        argument(
                help =
                    "$EXPERIMENT_HELP A script may end in sweep(experiment) { grid { ... } }, and a JSON file may hold such a sweep."
            )
            .optional()
    private val grid by
        option(
            "--grid",
            help =
                "Axes, e.g. variant=a,b,seed=1..3,size=nano,125m (overrides the sweep's own grid).",
        )
    private val executor by
        option(
                "--executor",
                help =
                    "local (default): child processes on this machine; slurm: one sbatch job array.",
            )
            .choice("local", "slurm")
            .default("local")
    private val out by
        option("--out", help = "Where sweep folders are created.").path().default(Path.of("sweeps"))
    private val parallel by
        option(
                "--parallel",
                help =
                    "At most this many cells at once (local default: one per CPU core, or per free GPU; slurm: %K of the array).",
            )
            .int()
    private val gpus by
        option(
            "--gpus",
            help = "local: the GPUs to use, e.g. 0,1,3 (default: those nvidia-smi shows free).",
        )
    private val retries by
        option(
                "--retries",
                help = "Times a cell that ends unfinished is started again from its checkpoints.",
            )
            .int()
            .default(2)
    private val partition by option("--partition", help = "slurm: partition.")
    private val account by option("--account", help = "slurm: account.")
    private val time by option("--time", help = "slurm: time limit per cell (e.g. 12:00:00).")
    private val gpusPerTask by option("--gpus-per-task", help = "slurm: GPUs per cell.").int()
    private val cpusPerTask by option("--cpus-per-task", help = "slurm: CPUs per cell.").int()
    private val pollSeconds by
        option("--poll", help = "slurm: seconds between looks at the queue.").int().default(10)
    private val detach by
        option("--detach", help = "slurm: submit and return; `--resume <dir>` follows later.")
            .flag()
    private val status by
        option(
                "--status",
                help =
                    "Show every cell's state and progress in a sweep folder (and gather it if all have ended).",
            )
            .path()
    private val resume by
        option(
                "--resume",
                help =
                    "Continue a sweep folder: run or submit the cells that are not complete, and follow them.",
            )
            .path()
    private val cancel by
        option(
                "--cancel",
                help =
                    "Stop a sweep: mark its folder and cancel its Slurm jobs (cells keep their checkpoints).",
            )
            .path()

    override fun run(): Unit = reportingErrors {
        when {
            status != null -> showStatus(SweepFolder(status!!))
            cancel != null -> cancelSweep(SweepFolder(cancel!!))
            resume != null ->
                follow(
                    SweepFolder(resume!!).also { Files.deleteIfExists(it.cancelMark) },
                    fresh = false,
                )
            experiment != null -> follow(create(experiment!!), fresh = true)
            else ->
                throw UsageError(
                    "name an experiment to sweep, or give --status, --resume or --cancel with a sweep folder"
                )
        }
    }

    private fun create(argument: String): SweepFolder {
        val (loaded, declared) = ExperimentSource(catalog).loadForSweep(argument)
        val registry = loaded.registry()
        val axes = grid?.let(SweepGrid::parse) ?: declared?.grid ?: SweepGrid()
        val own = declared?.slurm ?: SlurmResources()
        val resources =
            own.copy(
                partition = partition ?: own.partition,
                account = account ?: own.account,
                time = time ?: own.time,
                gpusPerTask = gpusPerTask ?: own.gpusPerTask,
                cpusPerTask = cpusPerTask ?: own.cpusPerTask,
                parallel = parallel ?: own.parallel,
            )
        // A cell sees only the GPUs it is given (CUDA_VISIBLE_DEVICES, set by Slurm or the local
        // pool), the first as device 0.
        val spec = loaded.spec.let { if (it.device is Gpu) it.copy(device = Gpu(0)) else it }
        val errors = mutableListOf<String>()
        val cells =
            SweepCells.expand(spec, axes).mapNotNull { (cell, narrowed) ->
                try {
                    cell to Planner(registry).compile(narrowed).experiment
                } catch (e: RuntimeException) {
                    if (e !is UserFacingError) throw e
                    errors += "cell ${cell.id}: ${e.message}"
                    null
                }
            }
        if (errors.isNotEmpty()) throw SweepPlanException(errors.joinToString("\n"))
        val folder = SweepFolder(RunDirectory.create(out, spec.name).root)
        cells.forEach { (cell, resolved) ->
            Files.createDirectories(folder.cellDir(cell))
            Files.writeString(
                folder.cellDir(cell).resolve("plan.json"),
                SpecJson.encode(resolved) + "\n",
            )
        }
        val source =
            argument.takeIf { catalog.examples().any { e -> e.name == it } }
                ?: Path.of(argument).toAbsolutePath().toString()
        folder.writeManifest(
            SweepManifest(
                experiment = spec.name,
                created = LocalDateTime.now().toString(),
                source = source,
                ownTasks = loaded.tasks.isNotEmpty() || loaded.chatGenerators.isNotEmpty(),
                grid = axes,
                executor = executor,
                slurm = resources,
                retries = retries,
                launcher = launcher(),
                cells = cells.map { it.first },
            )
        )
        echo("Sweep folder: ${folder.root} (${cells.size} cells, executor $executor)")
        return folder
    }

    private fun follow(folder: SweepFolder, fresh: Boolean) {
        val manifest = folder.manifest()
        val outcome =
            if (manifest.executor == "slurm") {
                val slurm = SlurmExecutor(folder, shell) { echo(it) }
                val active =
                    if (fresh) emptyMap()
                    else slurm.queue(manifest).filterValues { it in SlurmStates.active }
                val toSubmit =
                    manifest.cells
                        .filter { it.index !in active && folder.status(it)?.state != "complete" }
                        .map { it.index }
                if (toSubmit.isNotEmpty()) slurm.submit(toSubmit)
                if (detach) SweepOutcome.Detached
                else slurm.follow(Duration.ofSeconds(pollSeconds.toLong()))
            } else {
                val slots = localSlots(folder)
                echo("Running on ${slots.size} local slot(s)")
                if (LocalExecutor(folder, slots) { echo(it) }.run()) SweepOutcome.Complete
                else if (Files.exists(folder.cancelMark)) SweepOutcome.Cancelled
                else SweepOutcome.Failed
            }
        if (outcome == SweepOutcome.Detached) {
            echo(
                "Submitted. Follow with: looplab sweep --resume ${folder.root}   (state: looplab sweep --status ${folder.root})"
            )
            return
        }
        showStatus(folder)
        if (outcome != SweepOutcome.Complete) throw ProgramResult(1)
    }

    private fun localSlots(folder: SweepFolder): List<Map<String, String>> {
        val cells = folder.manifest().cells
        val onGpu =
            cells.isNotEmpty() &&
                SpecJson.decode(Files.readString(folder.cellDir(cells[0]).resolve("plan.json")))
                    .device is Gpu
        if (!onGpu)
            return LocalExecutor.cpuSlots(parallel ?: Runtime.getRuntime().availableProcessors())
        val devices =
            gpus?.split(',')?.map {
                it.trim().toIntOrNull()
                    ?: throw UsageError("--gpus $gpus: expected GPU indices like 0,1,3")
            }
                ?: LocalExecutor.freeGpus(
                    runCatching {
                            shell
                                .run(
                                    listOf(
                                        "nvidia-smi",
                                        "--query-gpu=index,memory.used",
                                        "--format=csv,noheader,nounits",
                                    )
                                )
                                .output
                        }
                        .getOrDefault("")
                )
        if (devices.isEmpty())
            throw UsageError(
                "the experiment runs on a GPU, but no free GPU was found (nvidia-smi); name them with --gpus"
            )
        return LocalExecutor.gpuSlots(parallel?.let { devices.take(it) } ?: devices)
    }

    private fun showStatus(folder: SweepFolder) {
        val manifest = folder.manifest()
        val queue =
            if (manifest.executor != "slurm") emptyMap()
            else
                try {
                    SlurmExecutor(folder, shell) {}.queue(manifest)
                } catch (e: SlurmException) {
                    echo("(no queue: ${e.message})")
                    emptyMap()
                }
        val views = manifest.cells.map { CellView(it, folder.status(it), queue[it.index]) }
        echo(SweepReport.render(folder, views))
        if (views.all { it.state in ENDED }) {
            echo(
                "\nComparison (${folder.root.resolve("comparison.txt")}):\n" +
                    SweepComparison.write(folder)
            )
        }
    }

    private fun cancelSweep(folder: SweepFolder) {
        if (folder.manifest().executor == "slurm")
            SlurmExecutor(folder, shell) { echo(it) }.cancel()
        else
            folder
                .write(
                    folder.cancelMark.fileName.toString(),
                    "cancelled with looplab sweep --cancel\n",
                )
                .also { echo("marked ${folder.root} cancelled") }
    }

    private companion object {
        val ENDED = setOf("complete", "failed", "terminated")
    }
}

/** `looplab sweep-cell <dir> <index>`: runs one cell of a sweep (what the executors start). */
public class SweepCellCommand(private val catalog: ExampleCatalog) :
    CliktCommand(name = "sweep-cell") {
    override fun help(context: Context): String =
        "Run (or continue) one cell of a sweep folder; the executors start this."

    private val dir by argument(help = "The sweep folder.").path()
    private val index by argument(help = "The cell's index (a Slurm array task id).").int()

    override fun run(): Unit = reportingErrors {
        val folder = SweepFolder(dir)
        val manifest = folder.manifest()
        val registry =
            if (manifest.ownTasks && manifest.source != null)
                ExperimentSource(catalog).loadWithTasks(manifest.source).registry()
            else TaskRegistry()
        if (!CellRun(folder, registry).run(index, currentContext.originalArgv))
            throw ProgramResult(1)
    }
}
