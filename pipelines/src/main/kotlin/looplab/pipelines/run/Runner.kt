package looplab.pipelines.run

import com.github.ajalt.mordant.terminal.Terminal
import java.nio.file.Files
import java.nio.file.Path
import java.time.LocalDateTime
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.EvalSpec
import looplab.dsl.ExperimentSpec
import looplab.dsl.Gpu
import looplab.dsl.ModelSpec
import looplab.dsl.Precision
import looplab.dsl.Rope
import looplab.dsl.SpecJson
import looplab.models.Models
import looplab.models.checks.ModelChecks
import looplab.models.compiled.GpuSettings
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.eval.AlgorithmicEvaluator
import looplab.pipelines.eval.Completers
import looplab.pipelines.eval.EvalHub
import looplab.pipelines.eval.LanguageEvaluator
import looplab.pipelines.eval.Suite
import looplab.pipelines.eval.SuiteSettings
import looplab.pipelines.metrics.Listeners
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.PlanPrinter
import looplab.pipelines.plan.Planner
import looplab.pipelines.plan.ResolvedData
import looplab.pipelines.run.tensorboard.TensorBoardLogger
import looplab.pipelines.train.Execution
import looplab.pipelines.train.StopRequest
import looplab.pipelines.train.TrainingDivergedException
import looplab.pipelines.train.TrainingInterruptedException

/** How to run: where records go, whether to continue an earlier run, how many data producers. */
public data class RunOptions(
    val runsDir: Path = Path.of("runs"),
    /** An earlier run folder to continue from its checkpoints instead of starting a new one. */
    val resume: Path? = null,
    val producers: Int = 2,
    /** The command line, recorded in env.json. */
    val command: List<String> = emptyList(),
    /** Your own training hooks, called after looplab's record keeping. */
    val listeners: List<TrainingListener> = emptyList(),
    /** The script the experiment came from: copied into the run folder, its SHA-256 in env.json. */
    val script: Path? = null,
    /** The `--set` overrides already applied to the spec, recorded in the plan. */
    val overrides: List<String> = emptyList(),
    /** Print nothing; the run folder is written in full all the same. */
    val quiet: Boolean = false,
    /**
     * Requested from a signal handler (or any thread): save a checkpoint at the next step and stop.
     */
    val stop: StopRequest = StopRequest(),
)

/**
 * What a run produced: [results] by suite (algorithmic, longctx, lm, loops). A run with several
 * seeds has one run per seed in [seedRuns], each in `seed-<seed>/` under [dir].
 */
public class RunResult(
    public val dir: Path,
    public val plan: Plan,
    public val summary: RunSummary,
    public val results: Map<String, SuiteResults>,
    public val seedRuns: List<RunResult> = emptyList(),
) {
    /** True when every variant completed every stage (of every seed). */
    public val succeeded: Boolean
        get() = summary.status == "complete"

    /**
     * True when the run stopped on request (Ctrl-C, SIGTERM) after saving checkpoints; resume it
     * from [dir].
     */
    public val interrupted: Boolean
        get() = summary.status == "interrupted"
}

/** A model failed a pre-training check; it is not trained, since its numbers would mislead. */
public class ModelCheckException(message: String) : RuntimeException(message)

/**
 * Runs an experiment: plans it, then takes each model variant through every stage of the pipeline
 * on one thread, keeping the run folder current throughout.
 */
public class Runner(
    private val registry: TaskRegistry = TaskRegistry(),
    private val terminal: Terminal = Terminal(),
) {

    public fun run(spec: ExperimentSpec, options: RunOptions = RunOptions()): RunResult =
        if (spec.seeds.isEmpty()) runSeed(spec, options, null) else runSeeds(spec, options)

    /**
     * Seeds as an axis: the experiment runs once per seed, each seed a complete run folder
     * `seed-<seed>/` (the experiment with `seed` set to it), under one folder whose plan.json is
     * the whole experiment; resuming that folder resumes every seed's run where it stopped.
     */
    private fun runSeeds(spec: ExperimentSpec, options: RunOptions): RunResult {
        val plan = Planner(registry).compile(spec)
        val parent =
            options.resume?.let(::RunDirectory)
                ?: RunDirectory.create(options.runsDir, plan.experiment.name)
        parent.write("plan.json", SpecJson.json.encodeToString(Plan.serializer(), plan) + "\n")
        val runs =
            plan.experiment.seeds.map { seed ->
                val dir = RunDirectory(parent.root.resolve("seed-$seed"))
                val resume = options.resume != null && Files.exists(dir.file("plan.json"))
                runSeed(
                    plan.experiment.copy(seed = seed, seeds = emptyList()),
                    options.copy(resume = if (resume) dir.root else null),
                    dir,
                )
            }
        val status = if (runs.all { it.succeeded }) "complete" else "failed"
        val variants =
            runs.flatMap { run ->
                run.summary.variants.map {
                    it.copy(name = "${it.name} (seed ${run.plan.experiment.seed})")
                }
            }
        terminal.println(
            "\nSeeds ${plan.experiment.seeds.joinToString()}: compare them with `looplab compare ${parent.root}`"
        )
        return RunResult(
            parent.root,
            plan,
            RunSummary(plan.experiment.name, status, LocalDateTime.now().toString(), variants),
            emptyMap(),
            runs,
        )
    }

    private fun runSeed(
        spec: ExperimentSpec,
        options: RunOptions,
        fixedDir: RunDirectory?,
    ): RunResult {
        // The data is resolved once, while planning, and every variant trains on it.
        val (compiled, data) = Planner(registry).compileResolved(spec)
        val plan = compiled.copy(overrides = options.overrides)
        // Everything that can be known to fail is checked before a run folder exists.
        Preflight.check(plan, options)
        val say: (String) -> Unit = if (options.quiet) { _ -> } else terminal::println
        say(PlanPrinter.render(plan))
        val dir =
            fixedDir
                ?: options.resume?.let(::RunDirectory)
                ?: RunDirectory.create(options.runsDir, plan.experiment.name)
        say("\nRun folder: ${dir.root}\n")
        val resolved = plan.experiment
        // fp32 matrix products use TF32 on a GPU, as PyTorch's allow_tf32 does.
        if (resolved.device is Gpu && resolved.precision == Precision.Fp32) GpuSettings.allowTf32()
        EagerBackend(EagerBackend.device((resolved.device as? Gpu)?.index)).use { backend ->
            recordIdentity(dir, plan, options, backend.device.toString())
            val recorder =
                RunRecorder(
                    dir,
                    plan,
                    if (options.resume != null)
                        MetricsHistory.read(dir) { terminal.println("Note: $it") }
                    else emptyList(),
                )
            TensorBoardLogger(dir.file("tensorboard")).use { tensorBoard ->
                val display = if (options.quiet) emptyList() else listOf(ProgressDisplay(terminal))
                val listeners =
                    Listeners(listOf(recorder, tensorBoard) + display + options.listeners)
                val hub = EvalHub(plan, data, backend)
                val evalResults = mutableListOf<Pair<Suite, SuiteEntry>>()
                var failures = 0
                var interrupted: TrainingInterruptedException? = null
                for (modelSpec in resolved.models) {
                    try {
                        if (options.stop.requested)
                            throw TrainingInterruptedException(
                                modelSpec.name,
                                null,
                                0,
                                options.stop.reason,
                            )
                        evalResults +=
                            runVariant(
                                modelSpec,
                                plan,
                                data,
                                backend,
                                hub,
                                dir,
                                recorder,
                                listeners,
                                options,
                            )
                        recorder.variantDone(modelSpec.name)
                    } catch (e: TrainingInterruptedException) {
                        interrupted = e
                        recorder.variantInterrupted(modelSpec.name)
                        break
                    } catch (e: RuntimeException) {
                        // A variant that diverges or fails its checks is recorded as failed, and
                        // the next one runs.
                        if (
                            e !is TrainingDivergedException &&
                                e !is ModelCheckException &&
                                e !is NonFiniteStateException
                        ) {
                            // Anything else ends the run; the record says so instead of "running".
                            recorder.variantFailed(
                                modelSpec.name,
                                e.message ?: e::class.simpleName.orEmpty(),
                            )
                            recorder.close("failed")
                            throw e
                        }
                        failures++
                        recorder.variantFailed(modelSpec.name, e.message!!)
                        say("[${modelSpec.name}] ${e.message}")
                    }
                }
                if (interrupted != null) {
                    recorder.close("interrupted")
                    // Said even in quiet mode: it is the only way to know how to continue.
                    terminal.println(
                        "\n${interrupted.message}. The run is marked \"interrupted\"; continue it with:\n  ${resumeCommand(dir, options)}"
                    )
                    return RunResult(dir.root, plan, recorder.summary(), emptyMap())
                }
                recorder.close(if (failures == 0) "complete" else "failed")
                val results = writeResults(dir, plan, hub, evalResults)
                say("\n" + ComparisonTable.render(plan, recorder.summary()))
                val files = results.keys.joinToString("") { ", results_$it.json" }
                say(
                    "\nRecord: ${dir.root} (plan.json, env.json, metrics.jsonl, summary.json$files, loss.png, accuracy.png, tensorboard/)"
                )
                return RunResult(dir.root, plan, recorder.summary(), results)
            }
        }
    }

    /**
     * plan.json, env.json and the experiment script: what made this run. A resume keeps the first
     * env.json and adds a line to resumes.jsonl.
     */
    private fun recordIdentity(dir: RunDirectory, plan: Plan, options: RunOptions, device: String) {
        // A resumed run keeps the plan.json it started with (the overrides it lists included).
        if (options.resume == null || !Files.exists(dir.file("plan.json")))
            dir.write("plan.json", SpecJson.json.encodeToString(Plan.serializer(), plan) + "\n")
        val script = options.script?.let(ArchivedScript::of)
        if (script != null && !Files.exists(dir.file(script.name)))
            dir.write(script.name, script.bytes)
        val env = Environment.capture(device, options.command, script)
        if (options.resume != null && Files.exists(dir.file("env.json"))) {
            dir.append(
                "resumes.jsonl",
                RunRecorder.compact.encodeToString(Environment.serializer(), env),
            )
        } else {
            dir.write(
                "env.json",
                SpecJson.json.encodeToString(Environment.serializer(), env) + "\n",
            )
        }
    }

    private fun resumeCommand(dir: RunDirectory, options: RunOptions): String =
        "looplab run " + (options.script?.let { "$it " } ?: "") + "--resume ${dir.root}"

    private fun runVariant(
        spec: ModelSpec,
        plan: Plan,
        data: ResolvedData,
        backend: EagerBackend,
        hub: EvalHub,
        dir: RunDirectory,
        recorder: RunRecorder,
        listeners: Listeners,
        options: RunOptions,
    ): List<Pair<Suite, SuiteEntry>> {
        val resume = options.resume != null
        val experiment = plan.experiment
        val model = Models.build(spec, plan.vocabSize)
        // What the variant holds on the device (weights, compiled programs) is freed when it is
        // done, before the next variant starts.
        val resources = mutableListOf<AutoCloseable>()
        try {
            val store =
                ParameterStore(model.parameters, backend, experiment.seed).also { resources += it }
            val executor =
                Execution.executor(experiment, backend).also {
                    if (it is AutoCloseable) resources += it
                }
            // The checks run on the executor that trains, so a compiled program is checked too.
            val tolerance = Execution.checkTolerance(experiment.precision)
            val shortLength = minOf(spec.contextLength - 4, 16)
            val checks =
                listOfNotNull(
                    ModelChecks.causality(
                        model,
                        store,
                        executor,
                        length = minOf(spec.contextLength, 24),
                    ),
                    ModelChecks.paddingInvariance(
                        model,
                        store,
                        executor,
                        length = shortLength,
                        padding = 4,
                        tolerance = tolerance,
                    ),
                    // Rotary positions run past the context (evaluation, generation): padding must
                    // not move the loss there either.
                    if (
                        spec.positions is Rope && spec.contextLength <= PADDING_PAST_CONTEXT_LIMIT
                    ) {
                        ModelChecks.paddingInvariance(
                            model,
                            store,
                            executor,
                            length = shortLength,
                            padding = spec.contextLength - shortLength + 4,
                            tolerance = tolerance,
                        )
                    } else null,
                )
            recorder.checked(
                spec.name,
                checks.map { (if (it.passed) "passed: " else "FAILED: ") + it.detail },
            )
            checks
                .firstOrNull { !it.passed }
                ?.let {
                    throw ModelCheckException("model check failed, not training: ${it.detail}")
                }

            val evaluator =
                AlgorithmicEvaluator(
                    Completers.greedy(model, store, backend, data.tokenizer.eos, executor),
                    data.tokenizer,
                    experiment.seed,
                )
            val languageEvaluator =
                data.language?.let {
                    LanguageEvaluator(model, store, backend, it, data.lengths.lengths.max())
                }
            val variant =
                VariantContext(
                    spec,
                    plan,
                    data,
                    backend,
                    hub,
                    dir,
                    model,
                    store,
                    executor,
                    evaluator,
                    languageEvaluator,
                    listeners,
                    resume,
                    options.producers,
                    terminal,
                    options.stop,
                )
            experiment.pipeline.stages.forEachIndexed { index, stage ->
                runnerFor(stage, plan.stages[index]).run(variant)
            }
            return variant.results
        } finally {
            resources.asReversed().forEach { it.close() }
        }
    }

    /**
     * One results file per suite measured, each with the settings of the first eval stage that
     * named the suite.
     */
    private fun writeResults(
        dir: RunDirectory,
        plan: Plan,
        hub: EvalHub,
        results: List<Pair<Suite, SuiteEntry>>,
    ): Map<String, SuiteResults> {
        val stages = plan.experiment.pipeline.stages.filterIsInstance<EvalSpec>()
        return results.groupBy({ it.first }, { it.second }).entries.associate { (suite, entries) ->
            val settings = SuiteSettings.of(stages.firstOrNull { suite in SuiteSettings.named(it) })
            suite.id to EvalHub.write(dir, suite, hub.metadata(suite, settings), entries)
        }
    }

    private companion object {
        /**
         * Longer contexts skip the padding check past the context: one forward pass of that length
         * costs too much on a CPU.
         */
        const val PADDING_PAST_CONTEXT_LIMIT = 4_096
    }
}
