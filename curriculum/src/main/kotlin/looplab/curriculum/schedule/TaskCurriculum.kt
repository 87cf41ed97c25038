package looplab.curriculum.schedule

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import looplab.curriculum.data.MixedTask
import looplab.dsl.CompetenceSpec
import looplab.dsl.DagSpec
import looplab.dsl.TaskCurriculumSpec
import looplab.dsl.TaskId

/**
 * A per-task curriculum: it sees accuracies at evaluation points and decides what the next segment
 * draws. Everything it decides lives in [state], which is serializable and saved with each
 * checkpoint; restoring it makes a resumed run take the same decisions.
 */
public interface TaskCurriculum {
    public val state: TaskCurriculumState

    public fun restore(state: TaskCurriculumState)

    /** What the next segment draws. */
    public fun draw(): Draw

    /**
     * Takes in one evaluation: accuracy per task and length, at optimizer step [step]. Returns a
     * line per decision taken (a difficulty change, an unlock), for the run log.
     */
    public fun observe(step: Long, accuracy: Map<TaskId, Map<Int, Double>>): List<String>

    public companion object {
        /** The curriculum [spec] describes over [tasks] (the resolved mixture). */
        public fun of(spec: TaskCurriculumSpec, tasks: List<MixedTask>): TaskCurriculum =
            when (spec) {
                is CompetenceSpec -> CompetenceCurriculum(spec, tasks)
                is DagSpec -> DagCurriculum(spec, tasks)
            }
    }
}

/** What a task curriculum has decided so far. */
@Serializable public sealed interface TaskCurriculumState

/** Per task (by name): its difficulty and the evidence for changing it. */
@Serializable
@SerialName("competence")
public data class CompetenceState(val tasks: Map<String, TaskCompetence>) : TaskCurriculumState

@Serializable
public data class TaskCompetence(
    /** The length trained at. */
    val level: Int,
    /** Moving average of accuracy at [level]; null until the first evaluation there. */
    val ema: Double? = null,
    /** Evaluations at [level]. */
    val evals: Int = 0,
    /** The step of the last change (0 at the start). */
    val lastChange: Long = 0,
)

/**
 * How many stages are open, each open task's moving-average accuracy, and how many evaluations in a
 * row have passed.
 */
@Serializable
@SerialName("dag")
public data class DagState(
    val unlocked: Int,
    val ema: Map<String, Double> = emptyMap(),
    val streak: Int = 0,
) : TaskCurriculumState
