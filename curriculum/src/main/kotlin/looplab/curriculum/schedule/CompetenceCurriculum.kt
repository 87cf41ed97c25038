package looplab.curriculum.schedule

import java.util.Locale
import looplab.curriculum.data.MixedTask
import looplab.dsl.CompetenceSpec
import looplab.dsl.TaskId

/**
 * Competence tracking (seed 001's `--use_task_curriculum`): each task starts at the shortest
 * training length and moves one length up or down when its accuracy average says so (see
 * [CompetenceSpec] for the rules: thresholds, minimum evaluations, cooldown, jitter).
 */
public class CompetenceCurriculum(
    private val spec: CompetenceSpec,
    private val tasks: List<MixedTask>,
) : TaskCurriculum {
    override var state: CompetenceState =
        CompetenceState(tasks.associate { it.task.id.name to TaskCompetence(level = it.train.min) })
        private set

    override fun restore(state: TaskCurriculumState) {
        require(state is CompetenceState && state.tasks.keys == this.state.tasks.keys) {
            "the saved curriculum state does not fit this competence curriculum: $state"
        }
        this.state = state
    }

    override fun draw(): Draw =
        Draw(
            weights = tasks.map { it.weight },
            levels = tasks.map { state.tasks.getValue(it.task.id.name).level },
            jitter = spec.jitter,
        )

    override fun observe(step: Long, accuracy: Map<TaskId, Map<Int, Double>>): List<String> {
        val notes = mutableListOf<String>()
        val next = state.tasks.toMutableMap()
        for (mixed in tasks) {
            val name = mixed.task.id.name
            val now = next.getValue(name)
            val acc = accuracy[mixed.task.id]?.get(now.level) ?: continue
            val ema = now.ema?.let { spec.emaDecay * it + (1 - spec.emaDecay) * acc } ?: acc
            val evals = now.evals + 1
            val mayChange = evals >= spec.minEvals && step - now.lastChange >= spec.cooldown.steps
            val target =
                when {
                    mayChange && ema >= spec.raiseAt && now.level < mixed.train.max -> now.level + 1
                    mayChange && ema <= spec.lowerAt && now.level > mixed.train.min -> now.level - 1
                    else -> now.level
                }
            next[name] =
                if (target != now.level) {
                    notes +=
                        "%s: difficulty %d -> %d (accuracy average %.2f after %d evaluations)"
                            .format(Locale.ROOT, name, now.level, target, ema, evals)
                    TaskCompetence(level = target, lastChange = step)
                } else {
                    now.copy(ema = ema, evals = evals)
                }
        }
        state = CompetenceState(next)
        return notes
    }
}
