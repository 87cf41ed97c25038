package looplab.pipelines.cli

import com.github.ajalt.clikt.command.main
import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.CliktError
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.ProgramResult
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.core.main
import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.arguments.optional
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.multiple
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.options.validate
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.path
import com.github.ajalt.clikt.parameters.types.restrictTo
import java.nio.file.Files
import java.nio.file.Path
import kotlin.system.exitProcess
import looplab.curriculum.tasks.TaskedExperiment
import looplab.dsl.SpecJson
import looplab.dsl.SpecOverrides
import looplab.dsl.UserFacingError
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.PlanPrinter
import looplab.pipelines.plan.Planner
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import looplab.pipelines.train.StopRequest

/** `looplab`: plan and run recursive language-model experiments. */
public class LooplabCommand : CliktCommand(name = "looplab") {
    override fun help(context: Context): String =
        "Declare recursive language-model experiments in Kotlin, see their plan, run them and compare the variants."

    private val threads by
        option(
                "--threads",
                help =
                    "PyTorch intra-op threads (default: OMP_NUM_THREADS, else the cores available to this process).",
            )
            .int()
            .validate { require(it >= 1) { "must be ≥ 1, was $it" } }

    override fun run() {
        TorchThreads.apply(TorchThreads.choose(threads).first)
    }
}

private const val FULL_HELP =
    "For a built-in example with a full-size variant: use the architecture at its published size instead of the CPU-sized default."

internal const val EXPERIMENT_HELP =
    "A built-in example's name (see `looplab list`), a *.looplab.kts script, or a *.json spec (a run's plan.json works too)."

/** `looplab list`: the built-in examples. */
public class ListCommand(private val catalog: ExampleCatalog) : CliktCommand(name = "list") {
    override fun help(context: Context): String = "List the built-in example experiments."

    override fun run() {
        val examples = catalog.examples()
        val width = examples.maxOf { it.name.length }
        examples.forEach { echo("${it.name.padEnd(width)}  ${it.description}") }
    }
}

/** `looplab plan`: what an experiment would do, without running it. */
public class PlanCommand(private val catalog: ExampleCatalog) : CliktCommand(name = "plan") {
    override fun help(context: Context): String =
        "Print an experiment's plan: resolved model shapes, physical and effective parameters, FLOPs per token, memory, data and stages."

    private val experiment by argument(help = EXPERIMENT_HELP)
    private val json by option("--json", help = "Print the plan as JSON instead of text.").flag()
    private val full by option("--full", help = FULL_HELP).flag()
    private val overrides by option("--set", metavar = "PATH=VALUE", help = SET_HELP).multiple()

    override fun run(): Unit = reportingErrors {
        val loaded = ExperimentSource(catalog).loadWithTasks(experiment, full)
        val registry = loaded.registry()
        val plan =
            Planner(registry)
                .compile(SpecOverrides.apply(loaded.spec, overrides))
                .copy(overrides = overrides)
        echo(
            if (json) planJson.encodeToString(Plan.serializer(), plan) else PlanPrinter.render(plan)
        )
        val fullSize = catalog.examples().firstOrNull { it.name == experiment }?.full
        if (!json && !full && fullSize != null) {
            echo("At full size (`looplab plan $experiment --full`; train it on a GPU):")
            echo(PlanPrinter.models(Planner(registry).compile(fullSize())))
        }
    }
}

/** `looplab run`: plan, train, evaluate and record. */
public class RunCommand(private val catalog: ExampleCatalog) : CliktCommand(name = "run") {
    override fun help(context: Context): String =
        "Run an experiment: every model variant through every stage, recorded under runs/<experiment>/<time>/."

    private val experiment by argument(help = EXPERIMENT_HELP).optional()
    private val runsDir by
        option("--runs-dir", help = "Where run folders are created.")
            .path()
            .default(Path.of("runs"))
    private val resume by
        option(
                "--resume",
                help =
                    "Continue an interrupted run from its folder's checkpoints (name the script too if it defines tasks).",
            )
            .path()
    private val producers by
        option(
                "--producers",
                help = "Data-generating coroutines (the output does not depend on it).",
            )
            .int()
            .restrictTo(min = 1)
            .default(2)
    private val full by option("--full", help = FULL_HELP).flag()
    private val overrides by option("--set", metavar = "PATH=VALUE", help = SET_HELP).multiple()
    private val quiet by
        option(
                "--quiet",
                help =
                    "Print nothing but errors and how to resume; the run folder is written in full.",
            )
            .flag()

    override fun run(): Unit = reportingErrors {
        if (Files.exists(runsDir) && !Files.isDirectory(runsDir))
            throw UsageError("--runs-dir $runsDir: not a folder")
        if (resume != null && overrides.isNotEmpty())
            throw UsageError(
                "--set cannot change a run being resumed: its plan.json fixes the experiment"
            )
        val loaded =
            when {
                resume != null -> resumedExperiment(resume!!)
                experiment != null -> ExperimentSource(catalog).loadWithTasks(experiment!!, full)
                else ->
                    throw UsageError(
                        "name an experiment to run (see `looplab list`), or --resume a run folder"
                    )
            }
        val spec = SpecOverrides.apply(loaded.spec, overrides)
        val script = experiment?.takeIf { it.endsWith(".looplab.kts") }?.let { Path.of(it) }
        val stop = StopRequest()
        StopSignals.install(stop)
        val options =
            RunOptions(
                runsDir,
                resume,
                producers,
                command = listOf("looplab") + commandLine(),
                script = script,
                overrides = overrides,
                quiet = quiet,
                stop = stop,
            )
        val result = Runner(loaded.registry()).run(spec, options)
        if (result.interrupted) throw ProgramResult(StopSignals.exitCode(stop.reason))
        if (!result.succeeded) throw ProgramResult(1)
    }

    /**
     * The whole command line as typed (the subcommand included), not just this command's arguments.
     */
    private fun commandLine(): List<String> =
        generateSequence(currentContext) { it.parent }.last().originalArgv

    /**
     * A resumed run continues the plan in its folder. Tasks a script defined are code, not data, so
     * such a run is resumed by naming the script too; its experiment must be the one recorded.
     */
    private fun resumedExperiment(dir: Path): TaskedExperiment {
        val plan = dir.resolve("plan.json")
        if (!Files.isRegularFile(plan))
            throw UsageError("--resume $dir: no plan.json there, so it is not a looplab run folder")
        val recorded = ExperimentSource(catalog).loadWithTasks(plan.toString(), false)
        val script = experiment ?: return recorded
        val named = ExperimentSource(catalog).loadWithTasks(script, full)
        // The recorded spec is resolved (task defaults filled in), so the script's is compared
        // resolved too.
        val resolved = Planner(named.registry()).compile(named.spec).experiment
        firstDifference(resolved, recorded.spec)?.let { path ->
            throw UsageError(
                "--resume $dir: $script describes a different experiment from the one recorded in its plan.json (they differ at $path)"
            )
        }
        return TaskedExperiment(recorded.spec, named.tasks, named.chatGenerators)
    }
}

private val planJson = SpecJson.json

private const val SET_HELP =
    "Change one field of the experiment, named by its path as validation errors name it: " +
        "--set pipeline.pretrain.budget=300.steps, --set model[baseline].width=256, --set seed=7 (repeatable; recorded in plan.json)."

/**
 * Turns every kind of bad input into one clear message and a non-zero exit, never a stack trace.
 */
internal inline fun reportingErrors(block: () -> Unit) {
    try {
        block()
    } catch (e: RuntimeException) {
        throw if (e is UserFacingError) CliktError(e.message, statusCode = 2) else e
    }
}

/** Runs the CLI with [catalog]'s examples; exits the JVM with the command's status. */
public fun runCli(catalog: ExampleCatalog, args: Array<String>) {
    try {
        LooplabCommand()
            .subcommands(
                ListCommand(catalog),
                PlanCommand(catalog),
                RunCommand(catalog),
                EvalCommand(catalog),
                CompareCommand(),
                SweepCommand(catalog),
                SweepCellCommand(catalog),
                GenerateCommand(),
                ChatCommand(),
                ExportCommand(),
                ImportCommand(),
                BenchCommand()
                    .subcommands(
                        BenchTrainCommand(),
                        DataBenchCommand(),
                        GenerateBenchCommand(),
                        BenchSoakCommand(),
                        GrpoBenchCommand(),
                        GrpoLearnCommand(),
                    ),
            )
            .main(args)
    } catch (e: Throwable) {
        if (System.getenv("LOOPLAB_DEBUG") != null) e.printStackTrace()
        System.err.println(
            "looplab: internal error: ${e::class.simpleName}: ${e.message} (set LOOPLAB_DEBUG=1 for the stack trace)"
        )
        exitProcess(70)
    }
}
