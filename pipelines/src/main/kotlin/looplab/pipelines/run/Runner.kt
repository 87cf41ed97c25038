package looplab.pipelines.run

import com.github.ajalt.mordant.terminal.Terminal
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.EvalSpec
import looplab.dsl.ExperimentSpec
import looplab.dsl.Gpu
import looplab.dsl.Precision
import looplab.models.compiled.GpuSettings
import looplab.dsl.ModelSpec
import looplab.dsl.Rope
import looplab.dsl.SpecJson
import looplab.models.Models
import looplab.models.checks.ModelChecks
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.eval.AlgorithmicEvaluator
import looplab.pipelines.eval.GreedyDecoder
import looplab.pipelines.eval.LanguageEvaluator
import looplab.pipelines.plan.ResolvedData
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.PlanPrinter
import looplab.pipelines.plan.Planner
import looplab.pipelines.train.Execution
import looplab.pipelines.metrics.Listeners
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.train.TrainingDivergedException
import looplab.pipelines.metrics.TrainingListener
import java.nio.file.Files
import java.nio.file.Path
import java.time.LocalDateTime

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
)

/** What a run produced. */
public class RunResult(public val dir: Path, public val plan: Plan, public val summary: RunSummary, public val results: AlgorithmicResults?) {
    /** True when every variant completed every stage. */
    public val succeeded: Boolean get() = summary.status == "complete"
}

/** A model failed a pre-training check; it is not trained, since its numbers would mislead. */
public class ModelCheckException(message: String) : RuntimeException(message)

/**
 * Runs an experiment: plans it, then takes each model variant through every stage of the pipeline
 * on one thread, keeping the run folder current throughout.
 */
public class Runner(private val registry: TaskRegistry = TaskRegistry(), private val terminal: Terminal = Terminal()) {

    public fun run(spec: ExperimentSpec, options: RunOptions = RunOptions()): RunResult {
        // The data is resolved once, while planning, and every variant trains on it.
        val (plan, data) = Planner(registry).compileResolved(spec)
        terminal.println(PlanPrinter.render(plan))
        val dir = options.resume?.let(::RunDirectory) ?: RunDirectory.create(options.runsDir, plan.experiment.name)
        terminal.println("\nRun folder: ${dir.root}\n")
        val resolved = plan.experiment
        // fp32 matrix products use TF32 on a GPU, as PyTorch's allow_tf32 does.
        if (resolved.device is Gpu && resolved.precision == Precision.Fp32) GpuSettings.allowTf32()
        EagerBackend(EagerBackend.device((resolved.device as? Gpu)?.index)).use { backend ->
            // A resumed run keeps its record of how it started; the resume is noted beside it.
            val environment = SpecJson.json.encodeToString(Environment.serializer(), Environment.capture(backend.device.toString(), options.command)) + "\n"
            if (options.resume == null) {
                dir.write("plan.json", SpecJson.json.encodeToString(Plan.serializer(), plan) + "\n")
                dir.write("env.json", environment)
            } else {
                dir.write("env-resumed.json", environment)
            }
            val recorder = RunRecorder(dir, plan, if (options.resume != null) MetricsHistory.read(dir) { terminal.println("Note: $it") } else emptyList())
            val listeners = Listeners(listOf(recorder, ProgressDisplay(terminal)) + options.listeners)
            val evalResults = mutableListOf<VariantResults>()
            var failures = 0
            for (modelSpec in resolved.models) {
                try {
                    evalResults += runVariant(modelSpec, plan, data, backend, dir, recorder, listeners, resume = options.resume != null, producers = options.producers)
                    recorder.variantDone(modelSpec.name)
                } catch (e: RuntimeException) {
                    // A variant that diverges or fails its checks is recorded as failed, and the next one runs.
                    if (e !is TrainingDivergedException && e !is ModelCheckException && e !is NonFiniteStateException) {
                        // Anything else ends the run; the record says so instead of "running".
                        recorder.variantFailed(modelSpec.name, e.message ?: e::class.simpleName.orEmpty())
                        recorder.close("failed")
                        throw e
                    }
                    failures++; recorder.variantFailed(modelSpec.name, e.message!!); terminal.println("[${modelSpec.name}] ${e.message}")
                }
            }
            recorder.close(if (failures == 0) "complete" else "failed")
            val results = writeResults(dir, plan, evalResults)
            terminal.println("\n" + ComparisonTable.render(plan, recorder.summary()))
            terminal.println("\nRecord: ${dir.root} (plan.json, env.json, metrics.jsonl, summary.json, results_algorithmic.json, loss.png, accuracy.png)")
            return RunResult(dir.root, plan, recorder.summary(), results)
        }
    }

    private fun runVariant(
        spec: ModelSpec, plan: Plan, data: ResolvedData, backend: EagerBackend, dir: RunDirectory, recorder: RunRecorder,
        listeners: Listeners, resume: Boolean, producers: Int,
    ): List<VariantResults> {
        val experiment = plan.experiment
        val model = Models.build(spec, plan.vocabSize)
        // What the variant holds on the device (weights, compiled programs) is freed when it is done, before the next variant starts.
        val resources = mutableListOf<AutoCloseable>()
        try {
            val store = ParameterStore(model.parameters, backend, experiment.seed).also { resources += it }
            val executor = Execution.executor(experiment, backend).also { if (it is AutoCloseable) resources += it }
            // The checks run on the executor that trains, so a compiled program is checked too.
            val tolerance = Execution.checkTolerance(experiment.precision)
            val shortLength = minOf(spec.contextLength - 4, 16)
            val checks = listOfNotNull(
                ModelChecks.causality(model, store, executor, length = minOf(spec.contextLength, 24)),
                ModelChecks.paddingInvariance(model, store, executor, length = shortLength, padding = 4, tolerance = tolerance),
                // Rotary positions run past the context (evaluation, generation): padding must not move the loss there either.
                if (spec.positions is Rope && spec.contextLength <= PADDING_PAST_CONTEXT_LIMIT) {
                    ModelChecks.paddingInvariance(model, store, executor, length = shortLength, padding = spec.contextLength - shortLength + 4, tolerance = tolerance)
                } else null,
            )
            recorder.checked(spec.name, checks.map { (if (it.passed) "passed: " else "FAILED: ") + it.detail })
            checks.firstOrNull { !it.passed }?.let { throw ModelCheckException("model check failed, not training: ${it.detail}") }

            val evaluator = AlgorithmicEvaluator(GreedyDecoder(model, store, backend, data.tokenizer.eos), data.tokenizer, experiment.seed)
            val languageEvaluator = data.language?.let { LanguageEvaluator(model, store, backend, it, data.lengths.lengths.max()) }
            val variant = VariantContext(spec, plan, data, backend, dir, model, store, executor, evaluator, languageEvaluator, listeners, resume, producers,
                notes = { terminal.println("[${spec.name}] $it") })
            experiment.pipeline.stages.forEachIndexed { index, stage -> runnerFor(stage, plan.stages[index]).run(variant) }
            return variant.results
        } finally {
            resources.asReversed().forEach { it.close() }
        }
    }

    private fun writeResults(dir: RunDirectory, plan: Plan, results: List<VariantResults>): AlgorithmicResults? {
        if (plan.data.tasks.isEmpty()) return null
        val eval = plan.experiment.pipeline.stages.filterIsInstance<EvalSpec>().firstNotNullOfOrNull { it.algorithmic } ?: return null
        val grid = plan.data.tasks.joinToString(";") { "${it.task}:${it.train}:${it.ood}" }
        val output = AlgorithmicResults(
            ResultsMetadata(
                experiment = plan.experiment.name,
                commit = Environment.gitCommit(),
                seed = plan.experiment.seed,
                gridVersion = "looplab-grid-1-" + Integer.toHexString(grid.hashCode()),
                decoding = Decoding("greedy", temperature = 0.0, maxNewTokens = eval.maxNewTokens, samplesPerCell = eval.samples),
                created = LocalDateTime.now().toString(),
            ),
            results,
        )
        dir.write("results_algorithmic.json", SpecJson.json.encodeToString(AlgorithmicResults.serializer(), output) + "\n")
        return output
    }

    private companion object {
        /** Longer contexts skip the padding check past the context: one forward pass of that length costs too much on a CPU. */
        const val PADDING_PAST_CONTEXT_LIMIT = 4_096
    }
}
