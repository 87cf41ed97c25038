package looplab.pipelines.eval

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.jsonObject
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.EvalSpec
import looplab.dsl.ModelStageSpec
import looplab.dsl.SpecJson
import looplab.dsl.UserFacingError
import looplab.models.Models
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.plan.Planner
import looplab.pipelines.run.RunDirectory
import looplab.pipelines.run.SuiteEntry

/** A run folder, variant or stage that cannot be evaluated; the message says which and why. */
public class EvaluationException(message: String) :
    IllegalArgumentException(message), UserFacingError

/** What `looplab eval` did: the results files written, and what it could not measure. */
public class EvaluationReport(public val written: List<Path>, public val notes: List<String>)

/**
 * `looplab eval`: measures suites on the checkpoints of a finished or running run (a run still
 * training is evaluated on the last checkpoints it wrote), writing `results_<suite>.json` beside
 * them. A folder of several seeds' runs is evaluated seed by seed.
 */
public class RunEvaluation(
    private val registry: TaskRegistry = TaskRegistry(),
    private val log: (String) -> Unit = ::println,
) {
    public fun evaluate(
        runDir: Path,
        suites: List<Suite>,
        variant: String? = null,
        stage: String? = null,
    ): EvaluationReport {
        if (!Files.isRegularFile(runDir.resolve("plan.json")))
            throw EvaluationException(
                "$runDir: no plan.json there, so it is not a looplab run folder"
            )
        val seedDirs =
            Files.list(runDir).use { s ->
                s.filter {
                        it.fileName.toString().startsWith("seed-") &&
                            Files.isRegularFile(it.resolve("plan.json"))
                    }
                    .sorted()
                    .toList()
            }
        val reports =
            (seedDirs.ifEmpty { listOf(runDir) }).map { evaluateOne(it, suites, variant, stage) }
        return EvaluationReport(reports.flatMap { it.written }, reports.flatMap { it.notes })
    }

    private fun evaluateOne(
        dirPath: Path,
        suites: List<Suite>,
        variantName: String?,
        stageId: String?,
    ): EvaluationReport {
        val dir = RunDirectory(dirPath)
        val spec = readSpec(dir.file("plan.json"))
        val (plan, data) = Planner(registry).compileResolved(spec)
        val experiment = plan.experiment
        val models = experiment.models.filter { variantName == null || it.name == variantName }
        if (models.isEmpty())
            throw EvaluationException(
                "--variant $variantName: no such variant in $dirPath (there are ${experiment.models.joinToString { it.name }})"
            )
        val stages = experiment.pipeline.stages
        // An eval stage brings its weights' stage and its suite settings; a training stage its
        // weights; by default, the last weights.
        val named =
            stageId?.let { id ->
                stages.firstOrNull { it.id == id }
                    ?: throw EvaluationException(
                        "--stage $id: no such stage (there are ${stages.joinToString { it.id }})"
                    )
            }
        val from =
            when (named) {
                is EvalSpec -> named.from
                is ModelStageSpec -> named.id
                null -> stages.filterIsInstance<ModelStageSpec>().last().id
            }
        val evalStage =
            named as? EvalSpec
                ?: stages.filterIsInstance<EvalSpec>().firstOrNull { it.from == from }
        val settings = SuiteSettings.of(evalStage)
        val stageName = evalStage?.id ?: from
        val notes = mutableListOf<String>()
        val entries = suites.associateWith { mutableListOf<SuiteEntry>() }
        EagerBackend().use { backend ->
            val hub = EvalHub(plan, data, backend)
            for (spec in models) {
                val checkpoint = dir.checkpoint(spec.name, from)
                if (!checkpoint.exists) {
                    notes += "$dirPath: ${spec.name} has no checkpoint of $from yet, not evaluated"
                    continue
                }
                val model = Models.build(spec, plan.vocabSize)
                ParameterStore(model.parameters, backend, experiment.seed).use { store ->
                    checkpoint.restoreWeights(store)
                    val checksum = checkpoint.weightsChecksum()
                    for (suite in suites) {
                        when (
                            val outcome =
                                hub.measure(
                                    suite,
                                    settings,
                                    spec,
                                    model,
                                    store,
                                    stageName,
                                    from,
                                    checksum,
                                )
                        ) {
                            is SuiteOutcome.Measured -> {
                                outcome.plot?.let {
                                    dir.write("${suite.id}_${spec.name}_$stageName.png", it)
                                }
                                entries.getValue(suite) += outcome.entry
                                log("[${spec.name}] ${suite.id}: ${describe(outcome.entry)}")
                            }
                            is SuiteOutcome.Skipped ->
                                notes +=
                                    "$dirPath: ${spec.name}: ${suite.id} not measured: ${outcome.reason}"
                        }
                    }
                }
            }
            val written =
                entries
                    .filterValues { it.isNotEmpty() }
                    .map { (suite, list) ->
                        EvalHub.write(dir, suite, hub.metadata(suite, settings), list)
                        dir.file(EvalHub.fileName(suite))
                    }
            return EvaluationReport(written, notes)
        }
    }

    private fun readSpec(plan: Path) =
        try {
            val root = Json.parseToJsonElement(Files.readString(plan)).jsonObject
            SpecJson.decode(root.getValue("experiment").jsonObject.toString(), "$plan")
        } catch (e: Exception) {
            if (e is UserFacingError) throw e
            throw EvaluationException("$plan cannot be read: ${e.message?.lineSequence()?.first()}")
        }

    public companion object {
        /** One line per entry for the terminal. */
        @JvmStatic
        public fun describe(e: SuiteEntry): String {
            e.cells?.let { cells ->
                val iid =
                    cells
                        .filter { it.split == "iid" }
                        .groupBy { it.task }
                        .mapValues { (_, c) -> c.map { it.accuracy }.average() }
                return "IID accuracy " +
                    iid.entries.joinToString {
                        "%s %.1f%%".format(java.util.Locale.ROOT, it.key, 100 * it.value)
                    }
            }
            e.needles?.let { n ->
                return n.cells
                    .groupBy { it.length }
                    .entries
                    .joinToString { (length, cells) ->
                        if (cells.any { !it.withinContext })
                            "$length: past the ${n.contextLength}-token context"
                        else
                            "$length: %.1f%%"
                                .format(
                                    java.util.Locale.ROOT,
                                    100 * cells.map { it.accuracy!! }.average(),
                                )
                    } + " (chance %.0e)".format(java.util.Locale.ROOT, n.chance)
            }
            e.language?.let {
                return "perplexity %.3f, %.4f bits per byte (gzip %.3f, xz %.3f) over %d tokens, window %d, stride %d"
                    .format(
                        java.util.Locale.ROOT,
                        it.perplexity,
                        it.bitsPerByte,
                        it.gzipBitsPerByte,
                        it.xzBitsPerByte,
                        it.tokens,
                        it.window,
                        it.stride,
                    )
            }
            e.loops?.let { l ->
                fun acc(p: LoopPoint) =
                    listOfNotNull(
                            p.iidAccuracy?.let {
                                "iid %.1f%%".format(java.util.Locale.ROOT, 100 * it)
                            },
                            p.oodAccuracy?.let {
                                "ood %.1f%%".format(java.util.Locale.ROOT, 100 * it)
                            },
                            p.languageLoss?.let { "text %.3f".format(java.util.Locale.ROOT, it) },
                        )
                        .joinToString(" ")
                return "per loop: " +
                    l.perLoop.joinToString(" | ") { "${it.loops}: ${acc(it)}" } +
                    "; depth: " +
                    (l.earlyExit + l.extrapolation)
                        .distinctBy { it.loops }
                        .joinToString(" | ") { "${it.loops}: ${acc(it)}" } +
                    (l.extrapolationBlocker?.let { "; no extrapolation: $it" } ?: "") +
                    l.depthRules.joinToString("") { rule ->
                        "; ${rule.task} at loops = length + ${rule.offset}: " +
                            rule.points.joinToString(" | ") { p ->
                                "${p.length}${if (p.ood) " (ood)" else ""}: " +
                                    (p.accuracy?.let {
                                        "%.1f%%".format(java.util.Locale.ROOT, 100 * it)
                                    } ?: "past ${l.byLength.first().accuracy.size} loops")
                            }
                    }
            }
            return "nothing measured"
        }
    }
}
