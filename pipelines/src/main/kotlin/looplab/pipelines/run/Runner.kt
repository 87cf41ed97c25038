package looplab.pipelines.run

import com.github.ajalt.mordant.terminal.Terminal
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.EvalSpec
import looplab.dsl.ExperimentSpec
import looplab.dsl.Gpu
import looplab.dsl.Precision
import looplab.models.compiled.GpuSettings
import looplab.dsl.ModelSpec
import looplab.dsl.PretrainSpec
import looplab.dsl.SpecJson
import looplab.models.Models
import looplab.models.checks.ModelChecks
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.eval.AlgorithmicEvaluator
import looplab.pipelines.eval.GreedyDecoder
import looplab.pipelines.eval.LanguageEvaluator
import looplab.pipelines.plan.ResolvedData
import looplab.curriculum.schedule.TaskCurriculum
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.PlanPrinter
import looplab.pipelines.plan.Planner
import looplab.pipelines.train.EvalMetrics
import looplab.pipelines.train.Execution
import looplab.pipelines.train.Listeners
import looplab.pipelines.train.MetricEvent
import looplab.pipelines.train.Pretrainer
import looplab.pipelines.train.TrainingDivergedException
import looplab.pipelines.train.TrainingListener
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
            dir.write("plan.json", SpecJson.json.encodeToString(Plan.serializer(), plan) + "\n")
            dir.write("env.json", SpecJson.json.encodeToString(Environment.serializer(), Environment.capture(backend.device.toString(), options.command)) + "\n")
            val recorder = RunRecorder(dir, plan, if (options.resume != null) previousEvents(dir) else emptyList())
            val listeners = Listeners(listOf(recorder, ProgressDisplay(terminal)) + options.listeners)
            val evalResults = mutableListOf<VariantResults>()
            var failures = 0
            for (modelSpec in resolved.models) {
                try {
                    evalResults += runVariant(modelSpec, plan, data, backend, dir, recorder, listeners, resume = options.resume != null, producers = options.producers)
                    recorder.variantDone(modelSpec.name)
                } catch (e: RuntimeException) {
                    // A variant that diverges or fails its checks is recorded as failed, and the next one runs.
                    if (e !is TrainingDivergedException && e !is ModelCheckException) throw e
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
            val checks = listOf(
                ModelChecks.causality(model, store, executor, length = minOf(spec.contextLength, 24)),
                ModelChecks.paddingInvariance(model, store, executor, length = minOf(spec.contextLength - 4, 16), padding = 4,
                    tolerance = Execution.checkTolerance(experiment.precision)),
            )
            recorder.checked(spec.name, checks.map { (if (it.passed) "passed: " else "FAILED: ") + it.detail })
            checks.firstOrNull { !it.passed }?.let { throw ModelCheckException("model check failed, not training: ${it.detail}") }

            val evaluator = AlgorithmicEvaluator(GreedyDecoder(model, store, backend, data.tokenizer.eos), data.tokenizer, experiment.seed)
            val languageEvaluator = data.language?.let { LanguageEvaluator(model, store, backend, it, data.lengths.lengths.max()) }
            val periodicBudget = data.mixture?.let { Planner.decodingBudget(it) } ?: 0
            val results = mutableListOf<VariantResults>()
            var weightsOf: String? = null
            for ((index, stage) in experiment.pipeline.stages.withIndex()) {
                when (stage) {
                    is PretrainSpec -> {
                        val curriculum = experiment.data.curriculum?.tasks?.let { TaskCurriculum.of(it, data.mixture!!.tasks) }
                        val optimizer = Execution.optimizer(experiment, stage, store, backend)
                        try {
                            Pretrainer(
                                executor, optimizer, spec.name, model, store, stage, plan.stages[index].steps!!,
                                data.trainingData(experiment, stage.batchSize),
                                measure = { if (data.mixture == null) emptyList() else evaluator.evaluate(data.mixture.tasks, stage.evalSamples, periodicBudget) },
                                listener = listeners, checkpoint = dir.checkpoint(spec.name, stage.id), producers = producers, seed = experiment.seed,
                                scaler = Execution.lossScaler(experiment),
                                curriculum = curriculum,
                                measureLanguage = languageEvaluator?.let { e -> { e.evaluate(PERIODIC_LANGUAGE_TOKENS) } },
                            ).run(resume)
                        } finally {
                            // The optimizer's moments are the stage's own; the weights stay for the stages after it.
                            (optimizer as? AutoCloseable)?.close()
                        }
                        weightsOf = stage.id
                    }
                    is EvalSpec -> {
                        if (weightsOf != stage.from) {
                            dir.checkpoint(spec.name, stage.from).restoreWeights(store)
                            weightsOf = stage.from
                        }
                        val cells = stage.algorithmic?.takeIf { data.mixture != null }?.let { evaluator.evaluate(data.mixture!!.tasks, it.samples, it.maxNewTokens) }
                        val score = stage.language?.let { languageEvaluator?.evaluate(it.maxTokens) }
                        if (cells == null && score == null) continue
                        listeners.evaluated(EvalMetrics(spec.name, stage.id, step = 0, validationLoss = null, accuracy = cells.orEmpty(), language = score))
                        if (cells != null) results += VariantResults(spec.name, stage.id, stage.from, cells)
                    }
                }
            }
            return results
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

    private fun previousEvents(dir: RunDirectory): List<MetricEvent> {
        val file = dir.file("metrics.jsonl")
        if (!Files.exists(file)) return emptyList()
        return Files.readAllLines(file).filter { it.isNotBlank() }.map { RunRecorder.compact.decodeFromString(MetricEvent.serializer(), it) }
    }

    private companion object {
        /** Held-out tokens scored at each periodic evaluation (the eval stage sets its own). */
        const val PERIODIC_LANGUAGE_TOKENS = 16_384
    }
}
