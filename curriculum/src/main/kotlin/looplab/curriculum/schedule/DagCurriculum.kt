package looplab.curriculum.schedule

import java.util.Locale
import looplab.curriculum.data.MixedTask
import looplab.dsl.DagSpec
import looplab.dsl.TaskId

/**
 * Staged unlocking (seed 001's `--task_curriculum_strategy dag`): the first stage's tasks train
 * alone; the next stage opens once every open task's accuracy average (over its training lengths)
 * reaches its stage's threshold for `patience` evaluations in a row. Once later stages are open, a
 * `replay` share of samples keeps the earlier ones in the mix.
 */
public class DagCurriculum(private val spec: DagSpec, private val tasks: List<MixedTask>) :
    TaskCurriculum {
    private val stageOf: Map<String, Int> =
        spec.stages.withIndex().flatMap { (i, s) -> s.tasks.map { it.name to i } }.toMap()

    override var state: DagState = DagState(unlocked = 1)
        private set

    override fun restore(state: TaskCurriculumState) {
        require(state is DagState && state.unlocked in 1..spec.stages.size) {
            "the saved curriculum state does not fit this DAG curriculum: $state"
        }
        this.state = state
    }

    override fun draw(): Draw {
        val newest = state.unlocked - 1
        val stage = tasks.map { stageOf[it.task.id.name] ?: Int.MAX_VALUE }
        val newWeight = tasks.indices.filter { stage[it] == newest }.sumOf { tasks[it].weight }
        val oldWeight = tasks.indices.filter { stage[it] < newest }.sumOf { tasks[it].weight }
        val replay = if (oldWeight > 0) spec.replay else 0.0
        val weights =
            tasks.indices.map { i ->
                when {
                    stage[i] == newest -> (1 - replay) * tasks[i].weight / newWeight
                    stage[i] < newest -> replay * tasks[i].weight / oldWeight
                    else -> 0.0
                }
            }
        return Draw(weights, levels = tasks.map { null })
    }

    override fun observe(step: Long, accuracy: Map<TaskId, Map<Int, Double>>): List<String> {
        val ema = state.ema.toMutableMap()
        val open = tasks.filter { (stageOf[it.task.id.name] ?: Int.MAX_VALUE) < state.unlocked }
        for (mixed in open) {
            val cells = accuracy[mixed.task.id]?.filterKeys { it in mixed.train } ?: continue
            if (cells.isEmpty()) continue
            val acc = cells.values.average()
            val name = mixed.task.id.name
            ema[name] = ema[name]?.let { spec.emaDecay * it + (1 - spec.emaDecay) * acc } ?: acc
        }
        if (state.unlocked >= spec.stages.size) {
            state = state.copy(ema = ema)
            return emptyList()
        }
        val passing =
            open.all { t ->
                (ema[t.task.id.name] ?: 0.0) >=
                    spec.stages[stageOf.getValue(t.task.id.name)].threshold
            }
        val streak = if (passing) state.streak + 1 else 0
        if (streak < spec.patience) {
            state = state.copy(ema = ema, streak = streak)
            return emptyList()
        }
        state = DagState(unlocked = state.unlocked + 1, ema = ema, streak = 0)
        val opened = spec.stages[state.unlocked - 1].tasks.joinToString()
        val averages =
            open.joinToString {
                "%s %.2f".format(Locale.ROOT, it.task.id.name, ema[it.task.id.name] ?: 0.0)
            }
        return listOf(
            "stage ${state.unlocked} of ${spec.stages.size} unlocked at step $step: $opened (after $streak passing evaluations; $averages)"
        )
    }
}
