package looplab.pipelines.cli

import java.io.File
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonObject
import looplab.curriculum.tasks.TaskedExperiment
import looplab.dsl.ExperimentSpec
import looplab.dsl.SpecJson
import looplab.dsl.SpecJsonException
import looplab.dsl.SweepSpec
import looplab.dsl.UserFacingError
import looplab.pipelines.script.ScriptLoader

/** Thrown when the experiment argument names nothing usable; the message says what was tried. */
public class ExperimentNotFoundException(message: String) :
    RuntimeException(message), UserFacingError

/**
 * Turns the CLI's experiment argument into a spec: a built-in example's name, a `*.looplab.kts`
 * script, or a JSON file holding a spec or a run's `plan.json`.
 */
public class ExperimentSource(private val catalog: ExampleCatalog) {
    /** The experiment and the tasks it brings of its own (a built-in example's, or a script's). */
    public fun loadWithTasks(argument: String, full: Boolean = false): TaskedExperiment {
        val example = catalog.examples().firstOrNull { it.name == argument }
        if (full) {
            val withFull = catalog.examples().filter { it.full != null }.joinToString { it.name }
            val fullSize =
                example?.full
                    ?: throw ExperimentNotFoundException(
                        "--full: \"$argument\" has no full-size variant; built-in examples that have one: ${withFull.ifEmpty { "none" }}"
                    )
            return TaskedExperiment(fullSize(), example.tasks)
        }
        example?.let {
            return TaskedExperiment(it.spec(), it.tasks)
        }
        val file = File(argument)
        return when {
            argument.endsWith(".looplab.kts") -> ScriptLoader.loadWithTasks(file)
            argument.endsWith(".json") -> TaskedExperiment(readJson(file))
            file.exists() ->
                throw ExperimentNotFoundException(
                    "$argument: expected a *.looplab.kts script or a *.json spec"
                )
            else ->
                throw ExperimentNotFoundException(
                    "unknown experiment \"$argument\": not a built-in example (${catalog.examples().joinToString { it.name }}), " +
                        "a *.looplab.kts script or a *.json file"
                )
        }
    }

    /**
     * For `looplab sweep`: what [loadWithTasks] reads, and also a sweep declared as data, by a
     * script ending in `sweep(experiment) { ... }` or a JSON [SweepSpec] (an object with
     * "experiment" and "grid").
     */
    public fun loadForSweep(argument: String): Pair<TaskedExperiment, SweepSpec?> {
        val file = File(argument)
        if (catalog.examples().none { it.name == argument }) {
            if (argument.endsWith(".looplab.kts")) {
                return when (val loaded = ScriptLoader.loadForSweep(file)) {
                    is SweepSpec -> TaskedExperiment(loaded.experiment) to loaded
                    else -> loaded as TaskedExperiment to null
                }
            }
            if (argument.endsWith(".json") && file.isFile) {
                val root =
                    try {
                        Json.parseToJsonElement(file.readText())
                    } catch (e: Exception) {
                        null
                    }
                if (root is JsonObject && "grid" in root) {
                    val sweep =
                        try {
                            SpecJson.json.decodeFromString(SweepSpec.serializer(), file.readText())
                        } catch (e: IllegalArgumentException) {
                            throw SpecJsonException(
                                "${file.path} is not a valid sweep: ${e.message?.lineSequence()?.first()}"
                            )
                        }
                    return TaskedExperiment(sweep.experiment) to sweep
                }
            }
        }
        return loadWithTasks(argument) to null
    }

    private fun readJson(file: File): ExperimentSpec {
        if (!file.isFile) throw ExperimentNotFoundException("${file.path}: no such file")
        val text = file.readText()
        // A run's plan.json holds the resolved spec under "experiment": running it reproduces the
        // run.
        val root =
            try {
                Json.parseToJsonElement(text)
            } catch (e: Exception) {
                null
            }
        val experiment = (root as? JsonObject)?.get("experiment")?.takeIf { "pipeline" !in root }
        return if (experiment != null) {
            SpecJson.decode(experiment.jsonObject.toString(), "${file.path} (its \"experiment\")")
        } else {
            SpecJson.decode(text, file.path)
        }
    }
}
