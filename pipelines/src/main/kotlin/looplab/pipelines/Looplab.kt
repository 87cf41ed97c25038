package looplab.pipelines

import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.ExperimentSpec
import looplab.dsl.SpecJson
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

    /** The experiment a `*.looplab.kts` script declares. */
    @JvmStatic
    public fun loadScript(script: Path): ExperimentSpec = ScriptLoader.load(script.toFile())

    /** An experiment from JSON text (as `SpecJson` writes it). */
    @JvmStatic
    public fun readJson(file: Path): ExperimentSpec = SpecJson.decode(Files.readString(file), file.toString())
}
