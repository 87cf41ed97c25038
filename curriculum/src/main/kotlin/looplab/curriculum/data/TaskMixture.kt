package looplab.curriculum.data

import kotlin.random.Random
import looplab.curriculum.schedule.Draw
import looplab.curriculum.tasks.AlgorithmicTask
import looplab.curriculum.tasks.Example
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.AlgorithmicDataSpec
import looplab.dsl.LengthRange
import looplab.dsl.SpecChecker
import looplab.dsl.TaskId

/** A task of the mixture with its defaults filled in. */
public data class MixedTask(
    val task: AlgorithmicTask,
    val weight: Double,
    val train: LengthRange,
    val ood: List<Int>,
) {
    /** The part of every example's seed that names its task. */
    internal val streamKey: Long = Seeds.of(task.id.name)

    /**
     * Every length of its evaluation grid: the training range, then the out-of-distribution
     * lengths.
     */
    public val gridLengths: List<Int> = (train.min..train.max) + ood
}

/** An example with the coordinates it was drawn at. */
public data class LabeledExample(val task: TaskId, val length: Int, val example: Example)

/**
 * A weighted mixture of tasks, sampled by index: sample `i` depends only on (seed, i), never on
 * what was drawn before, so streams are identical with any number of producers and after a resume.
 */
public class TaskMixture(public val tasks: List<MixedTask>, private val seed: Long) {
    init {
        require(tasks.isNotEmpty()) { "a task mixture needs at least one task" }
    }

    /**
     * The mixture as declared: every task by its weight, lengths uniform over the training range.
     */
    public val plainDraw: Draw = Draw(tasks.map { it.weight }, tasks.map { null })

    /**
     * Training sample number [index]: task by weight, then a length uniform in its training range,
     * or as [draw] (a curriculum's decision for this segment) says. Its randomness comes from
     * (seed, index) for the task and (seed, task, index) for the example.
     */
    public fun sample(index: Long, draw: Draw = plainDraw): LabeledExample {
        val weights = draw.cumulative
        val pick = Random(Seeds.mix(seed, index)).nextDouble() * weights.last()
        val i = weights.indexOfFirst { pick < it }.let { if (it < 0) tasks.lastIndex else it }
        val mixed = tasks[i]
        val random = Random(Seeds.mix(seed, mixed.streamKey, index))
        val level = draw.levels[i]
        val length =
            when {
                level == null ->
                    mixed.train.min + random.nextInt(mixed.train.max - mixed.train.min + 1)
                draw.jitter > 0 && random.nextDouble() < draw.jitter ->
                    mixed.train.min + random.nextInt(level - mixed.train.min + 1)
                else -> level
            }
        return LabeledExample(mixed.task.id, length, mixed.task.sample(random, length))
    }

    /** The longest example, in characters, that training can draw. */
    public fun maxTrainChars(): Int =
        tasks.maxOf { t -> (t.train.min..t.train.max).maxOf { t.task.maxChars(it) } }

    /**
     * The longest answer, in characters, anywhere on the grid (training and out-of-distribution
     * lengths).
     */
    public fun maxAnswerChars(): Int =
        tasks.maxOf { t -> t.gridLengths.maxOf { t.task.maxAnswerChars(it) } }

    /**
     * The longest prompt, in characters, anywhere on the grid: at each length, the longest example
     * less the longest answer.
     */
    public fun maxPromptChars(): Int =
        tasks.maxOf { t -> t.gridLengths.maxOf { t.task.maxChars(it) - t.task.maxAnswerChars(it) } }

    public companion object {
        /**
         * Resolves a data spec against [registry], recording unknown tasks at
         * `data.algorithmic.tasks[i].task` in [check]; returns null if any task is unknown.
         */
        public fun resolve(
            spec: AlgorithmicDataSpec,
            registry: TaskRegistry,
            seed: Long,
            check: SpecChecker,
        ): TaskMixture? {
            val resolved =
                spec.tasks.mapIndexed { i, t ->
                    val task = registry[t.task]
                    check.require("tasks[$i].task", task != null) {
                        "unknown task \"${t.task}\"; known tasks: ${registry.ids.joinToString()}"
                    }
                    task?.let {
                        MixedTask(it, t.weight, t.train ?: it.trainLengths, t.ood ?: it.oodLengths)
                    }
                }
            return if (resolved.any { it == null } || resolved.isEmpty()) null
            else TaskMixture(resolved.filterNotNull(), seed)
        }
    }
}
