package looplab.pipelines

import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.ExperimentSpec
import looplab.dsl.SpecJson
import looplab.pipelines.compare.Comparison
import looplab.pipelines.compare.RunRecords
import looplab.pipelines.eval.EvaluationReport
import looplab.pipelines.eval.RunEvaluation
import looplab.pipelines.eval.Suite
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.PlanPrinter
import looplab.pipelines.plan.Planner
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.RunResult
import looplab.pipelines.run.Runner
import looplab.pipelines.script.ScriptLoader
import java.nio.file.Files
import java.nio.file.Path

/**
 * looplab's entry points as plain static methods, for Java and other JVM languages:
 *
 * ```java
 * ExperimentSpec spec = Looplab.loadScript(Path.of("my.looplab.kts"));
 * System.out.println(Looplab.describe(Looplab.plan(spec)));
 * RunResult result = Looplab.run(spec, Path.of("runs"));
 * ```
 */
public object Looplab {
    /** Compiles [spec] into a plan; throws `InvalidSpecException` listing every error. */
    @JvmStatic
    public fun plan(spec: ExperimentSpec): Plan = Planner(TaskRegistry()).compile(spec)

    /** The plan as `looplab plan` prints it. */
    @JvmStatic
    public fun describe(plan: Plan): String = PlanPrinter.render(plan)

    /** Runs [spec], recording under [runsDir]/<experiment>/<time>/. */
    @JvmStatic
    public fun run(spec: ExperimentSpec, runsDir: Path): RunResult = Runner().run(spec, RunOptions(runsDir = runsDir))

    /** Measures [suites] ("algorithmic", "longctx", "lm", "loops") on a run folder's checkpoints, writing results_<suite>.json there. */
    @JvmStatic
    public fun evaluate(runDir: Path, vararg suites: String): EvaluationReport =
        RunEvaluation().evaluate(runDir, suites.map { Suite.of(it) ?: throw IllegalArgumentException("unknown suite \"$it\" (algorithmic, longctx, lm, loops)") })

    /** Compares the variants of run folders: means with 95% intervals over seeds and the win criteria. */
    @JvmStatic
    public fun compare(vararg runDirs: Path): Comparison = Comparison.of(RunRecords.load(runDirs.toList()))

    /** The experiment a `*.looplab.kts` script declares. */
    @JvmStatic
    public fun loadScript(script: Path): ExperimentSpec = ScriptLoader.load(script.toFile())

    /** An experiment from JSON text (as `SpecJson` writes it). */
    @JvmStatic
    public fun readJson(file: Path): ExperimentSpec = SpecJson.decode(Files.readString(file), file.toString())
}
