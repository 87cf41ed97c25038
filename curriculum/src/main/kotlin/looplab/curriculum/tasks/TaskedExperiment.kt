package looplab.curriculum.tasks

import looplab.curriculum.chat.ChatGenerator
import looplab.dsl.ExperimentSpec

/**
 * An experiment together with tasks and chat generators of its own, which must be registered before
 * it is planned. Specs name tasks and generators by id; this carries the code behind ids that
 * looplab does not ship.
 */
public class TaskedExperiment
@JvmOverloads
constructor(
    public val spec: ExperimentSpec,
    public val tasks: List<AlgorithmicTask> = emptyList(),
    public val chatGenerators: List<ChatGenerator> = emptyList(),
) {
    /** This experiment with [generators] added to its chat generators. */
    public fun withChatGenerators(vararg generators: ChatGenerator): TaskedExperiment =
        TaskedExperiment(spec, tasks, chatGenerators + generators)

    /** The built-in tasks with this experiment's tasks and chat generators added. */
    public fun registry(): TaskRegistry = TaskRegistry.withOwn(tasks, chatGenerators)
}

/**
 * Attaches tasks defined in an experiment script, whose last expression may then be
 * `experiment("x") { ... }.withTasks(MyTask)`.
 */
public fun ExperimentSpec.withTasks(vararg tasks: AlgorithmicTask): TaskedExperiment =
    TaskedExperiment(this, tasks.toList())

/**
 * Attaches chat generators defined in an experiment script: `experiment("x") { ...
 * }.withChatGenerators(MyGenerator)` (and `.withTasks(...).withChatGenerators(...)` for both).
 */
public fun ExperimentSpec.withChatGenerators(vararg generators: ChatGenerator): TaskedExperiment =
    TaskedExperiment(this, chatGenerators = generators.toList())
