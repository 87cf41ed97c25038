package looplab.curriculum.chat

import java.nio.file.Path
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.ChatDataSpec
import looplab.dsl.ChatJsonl
import looplab.dsl.CustomChat
import looplab.dsl.SpecChecker
import looplab.dsl.TaskQuestions
import looplab.dsl.WordProblems

/**
 * Turns a stage's chat data spec into a [ChatMixture]: generators by id, tasks by the registry,
 * files read.
 */
public object ChatSources {
    /**
     * The mixture of [spec], or null with every problem recorded in [check] (unknown tasks or
     * generators, unreadable files, each at its source's path). Tasks and generators beyond the
     * built-in ones come from [registry]; relative file paths resolve against [base].
     */
    @JvmStatic
    @JvmOverloads
    public fun resolve(
        spec: ChatDataSpec,
        seed: Long,
        registry: TaskRegistry,
        check: SpecChecker,
        base: Path = Path.of(""),
    ): ChatMixture? {
        val byId =
            (listOf<ChatGenerator>(WordProblemGenerator, DigitSums) + registry.chatGenerators)
                .associateBy { it.id }
        val sources = mutableListOf<ChatSource>()
        var ok = true
        spec.sources.forEachIndexed { i, source ->
            val at = check.at("sources[$i]")
            when (source) {
                is WordProblems ->
                    sources += ChatSource.Generated(WordProblemGenerator, source.weight)
                is TaskQuestions ->
                    source.tasks.forEachIndexed { t, id ->
                        val task = registry[id]
                        if (task == null) {
                            ok = false
                            at.require("tasks[$t]", false) {
                                "unknown task \"${id.name}\" (known: ${registry.ids.joinToString { it.name }})"
                            }
                        } else {
                            sources +=
                                ChatSource.Generated(
                                    TaskQuestionGenerator(task),
                                    source.weight / source.tasks.size,
                                )
                        }
                    }
                is CustomChat -> {
                    val generator = byId[source.id]
                    if (generator == null) {
                        ok = false
                        at.require("id", false) {
                            "no chat generator \"${source.id}\" is registered (registered: ${byId.keys.joinToString()}); " +
                                "a script adds its own with .withChatGenerators(...)"
                        }
                    } else {
                        sources += ChatSource.Generated(generator, source.weight)
                    }
                }
                is ChatJsonl ->
                    try {
                        sources +=
                            ChatSource.Fixed(
                                source.path,
                                ChatFiles.read(base.resolve(source.path)),
                                source.weight,
                            )
                    } catch (e: ChatDataException) {
                        ok = false
                        at.require("path", false) { e.message!! }
                    }
            }
        }
        return if (ok && sources.isNotEmpty()) ChatMixture(sources, seed, spec.heldOutEvery)
        else null
    }
}
