package looplab.pipelines.script

import kotlin.script.experimental.annotations.KotlinScript
import kotlin.script.experimental.api.ScriptAcceptedLocation
import kotlin.script.experimental.api.ScriptCompilationConfiguration
import kotlin.script.experimental.api.acceptedLocations
import kotlin.script.experimental.api.defaultImports
import kotlin.script.experimental.api.ide

/**
 * The script definition of `*.looplab.kts` experiment files: the DSL is imported, and the value of
 * the last expression is the experiment.
 *
 * ```
 * // my-ablation.looplab.kts
 * experiment("my-ablation") {
 *     data { algorithmic(Task.Parity) }
 *     model("looped") { width = 64; heads = 4; recursive(blocks = 1, loops = 3); contextLength = 32 }
 *     pipeline { val base = pretrain { budget = 200.steps }; eval(base) }
 * }
 * ```
 */
@KotlinScript(
    displayName = "looplab experiment",
    fileExtension = "looplab.kts",
    compilationConfiguration = LooplabScriptConfiguration::class,
)
public abstract class LooplabScript

/** Imports the DSL into every script. */
public object LooplabScriptConfiguration :
    ScriptCompilationConfiguration({
        // The DSL, and the task and chat APIs so that a script can define tasks and chat generators
        // of
        // its own (see withTasks and withChatGenerators).
        defaultImports("looplab.dsl.*", "looplab.curriculum.tasks.*", "looplab.curriculum.chat.*")
        ide { acceptedLocations(ScriptAcceptedLocation.Everywhere) }
    }) {
    private fun readResolve(): Any = LooplabScriptConfiguration
}
