package looplab.pipelines

import java.nio.file.Files
import java.nio.file.Path
import java.util.function.Consumer
import looplab.curriculum.chat.ChatGenerator
import looplab.curriculum.tasks.AlgorithmicTask
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.ExperimentBuilder
import looplab.dsl.ExperimentSpec
import looplab.dsl.SpecJson
import looplab.dsl.SpecOverrides
import looplab.pipelines.cli.ExperimentNotFoundException
import looplab.pipelines.compare.Comparison
import looplab.pipelines.compare.RunRecords
import looplab.pipelines.eval.EvaluationReport
import looplab.pipelines.eval.RunEvaluation
import looplab.pipelines.eval.Suite
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.PlanPrinter
import looplab.pipelines.plan.Planner
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.RunResult
import looplab.pipelines.run.Runner
import looplab.pipelines.script.ScriptLoader
import looplab.pipelines.train.StopRequest

/**
 * looplab's entry points as plain static methods, for Java and other JVM languages:
 * ```java
 * ExperimentSpec spec = Looplab.loadScript(Path.of("my.looplab.kts"));
 * System.out.println(Looplab.describe(Looplab.plan(spec)));
 * RunResult result = Looplab.session().runsDir(Path.of("runs")).quiet().listener(myListener).run(spec);
 * RunResult resumed = Looplab.session().resume(result.getDir());
 * ```
 */
public object Looplab {
    /**
     * Builds an experiment with the DSL's builder (`b.setSeed(7); b.model("m", m -> { ...; return
     * Unit.INSTANCE; })`).
     */
    @JvmStatic
    public fun experiment(name: String, build: Consumer<ExperimentBuilder>): ExperimentSpec =
        looplab.dsl.experiment(name) { build.accept(this) }

    /**
     * [spec] with `path=value` changes, as `--set` makes them: `Looplab.with(spec,
     * "model[baseline].width=256")`.
     */
    @JvmStatic
    public fun with(spec: ExperimentSpec, vararg overrides: String): ExperimentSpec =
        SpecOverrides.apply(spec, overrides.toList())

    /** Compiles [spec] into a plan; throws `InvalidSpecException` listing every error. */
    @JvmStatic public fun plan(spec: ExperimentSpec): Plan = session().plan(spec)

    /** The plan as `looplab plan` prints it. */
    @JvmStatic public fun describe(plan: Plan): String = PlanPrinter.render(plan)

    /** Runs [spec], recording under [runsDir]/<experiment>/<time>/. */
    @JvmStatic
    public fun run(spec: ExperimentSpec, runsDir: Path): RunResult =
        session().runsDir(runsDir).run(spec)

    /**
     * Measures [suites] ("algorithmic", "longctx", "lm", "loops") on a run folder's checkpoints,
     * writing results_<suite>.json there.
     */
    @JvmStatic
    public fun evaluate(runDir: Path, vararg suites: String): EvaluationReport =
        RunEvaluation()
            .evaluate(
                runDir,
                suites.map {
                    Suite.of(it)
                        ?: throw IllegalArgumentException(
                            "unknown suite \"$it\" (algorithmic, longctx, lm, loops)"
                        )
                },
            )

    /**
     * Compares the variants of run folders: means with 95% intervals over seeds and the win
     * criteria.
     */
    @JvmStatic
    public fun compare(vararg runDirs: Path): Comparison =
        Comparison.of(RunRecords.load(runDirs.toList()))

    /**
     * The experiment a `*.looplab.kts` script declares (tasks it defines: use [session] and
     * `script`).
     */
    @JvmStatic
    public fun loadScript(script: Path): ExperimentSpec = ScriptLoader.load(script.toFile())

    /** An experiment from JSON text (as `SpecJson` writes it). */
    @JvmStatic
    public fun readJson(file: Path): ExperimentSpec =
        SpecJson.decode(Files.readString(file), file.toString())

    /**
     * A configurable way to plan, run and resume: where runs go, listeners, quiet mode, tasks of
     * your own.
     */
    @JvmStatic public fun session(): Session = Session()

    /** Options for planning and running, set fluently; each setter returns this session. */
    public class Session internal constructor() {
        private var runsDir: Path = Path.of("runs")
        private var producers = 2
        private var quiet = false
        private val listeners = mutableListOf<TrainingListener>()
        private val tasks = mutableListOf<AlgorithmicTask>()
        private val chatGenerators = mutableListOf<ChatGenerator>()
        private var stop = StopRequest()

        public fun runsDir(dir: Path): Session = apply { runsDir = dir }

        public fun producers(count: Int): Session = apply { producers = count }

        /** Print nothing; the run folder is written in full all the same. */
        @JvmOverloads
        public fun quiet(quiet: Boolean = true): Session = apply { this.quiet = quiet }

        /**
         * Hears every step, evaluation and stage boundary (implement only the methods you need).
         */
        public fun listener(listener: TrainingListener): Session = apply { listeners += listener }

        /** Tasks of your own that the experiment's data names by id. */
        public fun tasks(vararg tasks: AlgorithmicTask): Session = apply { this.tasks += tasks }

        /** Chat generators of your own that SFT data, GRPO prompts or chat suites name by id. */
        public fun chatGenerators(vararg generators: ChatGenerator): Session = apply {
            this.chatGenerators += generators
        }

        /**
         * Request it (from any thread) to save a checkpoint at the next step and stop; the result
         * is then `interrupted`.
         */
        public fun stopRequest(stop: StopRequest): Session = apply { this.stop = stop }

        public fun plan(spec: ExperimentSpec): Plan = Planner(registry()).compile(spec)

        public fun run(spec: ExperimentSpec): RunResult =
            Runner(registry()).run(spec, options(null))

        /**
         * Continues the run in [dir] from its checkpoints, with the experiment recorded in its
         * plan.json.
         */
        public fun resume(dir: Path): RunResult {
            val planFile = dir.resolve("plan.json")
            if (!Files.isRegularFile(planFile))
                throw ExperimentNotFoundException(
                    "$dir: no plan.json there, so it is not a looplab run folder"
                )
            val spec =
                SpecJson.json
                    .decodeFromString(Plan.serializer(), Files.readString(planFile))
                    .experiment
            return Runner(registry()).run(spec, options(dir))
        }

        private fun registry() = TaskRegistry.withOwn(tasks, chatGenerators)

        private fun options(resume: Path?) =
            RunOptions(
                runsDir,
                resume,
                producers,
                listeners = listeners.toList(),
                quiet = quiet,
                stop = stop,
            )
    }
}
