package looplab.curriculum.tasks

import looplab.dsl.ExperimentSpec

/**
 * An experiment together with tasks of its own, which must be registered before it is planned.
 * Specs name tasks by id; this carries the code behind ids that looplab does not ship.
 */
public class TaskedExperiment(public val spec: ExperimentSpec, public val tasks: List<AlgorithmicTask> = emptyList())

/**
 * Attaches tasks defined in an experiment script, whose last expression may then be
 * `experiment("x") { ... }.withTasks(MyTask)`.
 */
public fun ExperimentSpec.withTasks(vararg tasks: AlgorithmicTask): TaskedExperiment = TaskedExperiment(this, tasks.toList())
