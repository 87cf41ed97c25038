package looplab.curriculum.tasks

import looplab.curriculum.chat.ChatGenerator
import looplab.dsl.TaskId

/**
 * Resolves ids to code: the built-in tasks plus any a user adds, and the chat generators a user
 * adds (besides the built-in ones, which chat data resolves by itself).
 */
public class TaskRegistry
@JvmOverloads
constructor(
    tasks: Collection<AlgorithmicTask> = builtIn,
    public val chatGenerators: List<ChatGenerator> = emptyList(),
) {
    private val byId: Map<TaskId, AlgorithmicTask> = tasks.associateBy { it.id }

    init {
        require(byId.size == tasks.size) {
            "two tasks share an id: ${tasks.groupBy { it.id }.filter { it.value.size > 1 }.keys}"
        }
    }

    /** Every registered task id, sorted by name. */
    public val ids: List<TaskId>
        get() = byId.keys.sortedBy { it.name }

    public operator fun get(id: TaskId): AlgorithmicTask? = byId[id]

    /** A registry with [extra] tasks added to these. */
    public fun plus(extra: Collection<AlgorithmicTask>): TaskRegistry =
        TaskRegistry(byId.values + extra, chatGenerators)

    public companion object {
        /** The built-in tasks with a script's or a session's own [tasks] and chat [generators]. */
        @JvmStatic
        public fun withOwn(
            tasks: Collection<AlgorithmicTask>,
            generators: Collection<ChatGenerator>,
        ): TaskRegistry = TaskRegistry(builtIn + tasks, generators.toList())

        /** The tasks looplab ships. */
        public val builtIn: List<AlgorithmicTask> =
            listOf(
                ModAdd,
                Parity,
                Addition,
                Multiplication,
                Copy,
                Reverse,
                Dyck,
                Chain,
                Compare,
                Successor,
            )
    }
}
