package looplab.curriculum

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.ints.shouldBeInRange
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlinx.serialization.json.Json
import looplab.curriculum.data.BatchStream
import looplab.curriculum.data.Batcher
import looplab.curriculum.data.MixedTask
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.schedule.CompetenceCurriculum
import looplab.curriculum.schedule.DagCurriculum
import looplab.curriculum.schedule.SequenceSchedule
import looplab.curriculum.schedule.SplitSchedule
import looplab.curriculum.schedule.StepPhase
import looplab.curriculum.schedule.TaskCurriculum
import looplab.curriculum.schedule.TaskCurriculumState
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.CharTokenizer
import looplab.dsl.AlgorithmicDataSpec
import looplab.dsl.CompetenceSpec
import looplab.dsl.DagSpec
import looplab.dsl.DagStageSpec
import looplab.dsl.LossScope
import looplab.dsl.SpecChecker
import looplab.dsl.Steps
import looplab.dsl.Task
import looplab.dsl.TaskId
import looplab.dsl.TaskSpec

/**
 * A learner whose accuracy we script: it masters a task up to a length that grows by one every
 * [pace] evaluations, and gets [partial] accuracy just beyond it.
 */
private class FakeLearner(private val pace: Map<TaskId, Int>, private val partial: Double = 0.5) {
    var evals = 0

    fun accuracy(tasks: List<MixedTask>): Map<TaskId, Map<Int, Double>> {
        evals++
        return tasks.associate { t ->
            val mastered = 1 + evals / (pace[t.task.id] ?: 1_000_000)
            t.task.id to
                (t.train.min..t.train.max).associateWith { len ->
                    if (len <= mastered) 1.0 else if (len == mastered + 1) partial else 0.0
                }
        }
    }
}

class CurriculaSpec :
    FunSpec({
        fun mixture(vararg ids: TaskId) =
            TaskMixture.resolve(
                AlgorithmicDataSpec(ids.map { TaskSpec(it) }),
                TaskRegistry(),
                11,
                SpecChecker(),
            )!!
        val json = Json { classDiscriminator = "type" }

        /**
         * Runs [evals] evaluations, [every] steps apart; returns the notes and the state after
         * each.
         */
        fun script(
            curriculum: TaskCurriculum,
            learner: FakeLearner,
            tasks: List<MixedTask>,
            evals: IntRange,
            every: Long = 100,
        ) =
            evals.map { e ->
                curriculum.observe(e * every, learner.accuracy(tasks)) to curriculum.state
            }

        test(
            "competence: difficulty rises as the learner masters lengths, waits for minimum evaluations and cooldown, falls when accuracy drops"
        ) {
            val mix = mixture(Task.Parity, Task.Copy)
            val spec =
                CompetenceSpec(
                    emaDecay = 0.5,
                    raiseAt = 0.9,
                    lowerAt = 0.3,
                    cooldown = Steps(200),
                    minEvals = 2,
                    jitter = 0.2,
                )
            val curriculum = CompetenceCurriculum(spec, mix.tasks)
            curriculum.draw().levels shouldBe listOf(1, 1)
            // Parity is mastered one length per evaluation; copy never improves past length 1...
            // until the learner is told.
            val learner = FakeLearner(mapOf(Task.Parity to 1, Task.Copy to 1_000))
            val history = script(curriculum, learner, mix.tasks, 1..12)
            val parityLevels =
                history.map { (_, s) ->
                    (s as looplab.curriculum.schedule.CompetenceState)
                        .tasks
                        .getValue("parity")
                        .level
                }
            // Raised at most once per 2 evaluations (minEvals) and 200 steps (cooldown): never two
            // raises in a row.
            parityLevels.zipWithNext().count { (a, b) -> b == a + 1 } shouldBe
                parityLevels.last() - 1
            parityLevels.windowed(3).none { (a, b, c) -> c == a + 2 } shouldBe true
            parityLevels.last() shouldBeInRange 4..8
            // Copy: length 1 mastered (accuracy 1.0), length 2 at 0.5, so it rises to 2 and stays.
            history.last().second.let {
                (it as looplab.curriculum.schedule.CompetenceState).tasks.getValue("copy").level
            } shouldBe 2
            history.flatMap { it.first }.first() shouldContain "difficulty 1 -> 2"

            // A learner that forgets: accuracy 0 everywhere lowers the difficulty again, after
            // minEvals and cooldown.
            val before =
                (curriculum.state as looplab.curriculum.schedule.CompetenceState)
                    .tasks
                    .getValue("parity")
                    .level
            val zero =
                mix.tasks.associate { t ->
                    t.task.id to (t.train.min..t.train.max).associateWith { 0.0 }
                }
            repeat(3) { curriculum.observe(2_000L + it * 100, zero) }
            (curriculum.state as looplab.curriculum.schedule.CompetenceState)
                .tasks
                .getValue("parity")
                .level shouldBe before - 1
        }

        test(
            "competence: jitter replays easier lengths at its probability; otherwise samples are at the current difficulty"
        ) {
            val mix = mixture(Task.Copy)
            val curriculum =
                CompetenceCurriculum(
                    CompetenceSpec(jitter = 0.25, minEvals = 1, emaDecay = 0.0),
                    mix.tasks,
                )
            val learner = FakeLearner(mapOf(Task.Copy to 1))
            repeat(5) { curriculum.observe((it + 1) * 10L, learner.accuracy(mix.tasks)) }
            val level = curriculum.draw().levels.single()!!
            level shouldBe 6
            val lengths = (0 until 4000L).map { mix.sample(it, curriculum.draw()).length }
            lengths.all { it <= level } shouldBe true
            (lengths.count { it < level } / 4000.0) shouldBe
                ((0.25 * (level - 1) / level) plusOrMinus 0.03)
        }

        test(
            "DAG: stage 2 unlocks only after every stage-1 task passes its threshold `patience` times in a row; replay mixes stage 1 back in"
        ) {
            val mix = mixture(Task.Copy, Task.Parity, Task.Addition)
            val spec =
                DagSpec(
                    listOf(
                        DagStageSpec(listOf(Task.Copy), 0.8),
                        DagStageSpec(listOf(Task.Parity, Task.Addition), 0.8),
                    ),
                    emaDecay = 0.0,
                    patience = 2,
                    replay = 0.2,
                )
            val dag = DagCurriculum(spec, mix.tasks)
            dag.draw().weights shouldBe listOf(1.0, 0.0, 0.0)
            // Copy's mean accuracy over lengths 1..8 is (1 + e + 0.5) / 8 at evaluation e: ≥ 0.8
            // from the 5th on.
            val learner = FakeLearner(mapOf(Task.Copy to 1))
            val notes = script(dag, learner, mix.tasks, 1..8).map { it.first }
            notes.indexOfFirst { it.isNotEmpty() } shouldBe
                5 // 5th and 6th evaluations pass; unlocked at the 6th (index 5)
            notes[5].single() shouldContain "stage 2 of 2 unlocked"
            dag.draw().weights shouldBe listOf(0.2, 0.4, 0.4)
            val drawn = (0 until 3000L).groupingBy { mix.sample(it, dag.draw()).task }.eachCount()
            (drawn.getValue(Task.Copy) / 3000.0) shouldBe (0.2 plusOrMinus 0.03)
        }

        test(
            "a curriculum restored from its saved state takes the same decisions as one that never stopped"
        ) {
            val mix = mixture(Task.Parity, Task.Addition, Task.Copy)
            val specs =
                listOf(
                    CompetenceSpec(cooldown = Steps(100), minEvals = 2, jitter = 0.1),
                    DagSpec(
                        listOf(
                            DagStageSpec(listOf(Task.Copy), 0.6),
                            DagStageSpec(listOf(Task.Parity), 0.6),
                            DagStageSpec(listOf(Task.Addition), 0.6),
                        ),
                        patience = 2,
                    ),
                )
            for (spec in specs) {
                val pace = mapOf(Task.Parity to 2, Task.Addition to 3, Task.Copy to 1)
                val straight = TaskCurriculum.of(spec, mix.tasks)
                val all = script(straight, FakeLearner(pace), mix.tasks, 1..20)

                val first = TaskCurriculum.of(spec, mix.tasks)
                val learner = FakeLearner(pace)
                script(first, learner, mix.tasks, 1..9)
                val saved = json.encodeToString(TaskCurriculumState.serializer(), first.state)
                val resumed =
                    TaskCurriculum.of(spec, mix.tasks).apply {
                        restore(json.decodeFromString(TaskCurriculumState.serializer(), saved))
                    }
                val rest = script(resumed, learner, mix.tasks, 10..20)
                rest shouldBe all.drop(9)
                all.flatMap { it.first }.isNotEmpty() shouldBe true
            }
        }

        test(
            "batches drawn under a curriculum state are the same with 1 and 2 producers, segment by segment"
        ) {
            val mix = mixture(Task.Parity, Task.Copy, Task.Dyck)
            val curriculum = CompetenceCurriculum(CompetenceSpec(minEvals = 1), mix.tasks)
            val batcher = Batcher(CharTokenizer, LossScope.Answer)
            fun run(producers: Int): List<List<Int>> {
                val c = CompetenceCurriculum(CompetenceSpec(minEvals = 1), mix.tasks)
                val learner = FakeLearner(mapOf(Task.Parity to 1, Task.Copy to 2, Task.Dyck to 1))
                val out = mutableListOf<List<Int>>()
                for (segment in 0 until 4) {
                    val draw = c.draw()
                    BatchStream(producers, start = segment * 5L, end = segment * 5L + 5) { i ->
                            batcher.batch((0 until 4).map { mix.sample(i * 4 + it, draw).example })
                        }
                        .use { s -> repeat(5) { out += s.next().inputs.toList() } }
                    c.observe((segment + 1) * 5L, learner.accuracy(mix.tasks))
                }
                return out
            }
            run(2) shouldBe run(1)
            curriculum.draw().levels shouldBe listOf(1, 1, 2)
        }

        test("split and sequence schedules are functions of the batch index") {
            val split =
                SplitSchedule(
                    listOf(
                        StepPhase(100, 1.0, 0.0),
                        StepPhase(200, 0.25, 0.75),
                        StepPhase(300, 0.0, 1.0),
                    ),
                    seed = 3,
                )
            (0 until 100L).none { split.isLanguage(it) } shouldBe true
            ((100 until 200L).count { split.isLanguage(it) } / 100.0) shouldBe
                (0.75 plusOrMinus 0.12)
            (200 until 400L).all { split.isLanguage(it) } shouldBe true
            (0 until 400L).map { split.isLanguage(it) } shouldBe
                (0 until 400L).map { SplitSchedule(split.phases, 3).isLanguage(it) }
            val lengths = SequenceSchedule(2048, listOf(15_000L to 4096, 250_000L to 8192))
            listOf(0L, 14_999L, 15_000L, 249_999L, 250_000L).map { lengths.lengthAt(it) } shouldBe
                listOf(2048, 2048, 4096, 4096, 8192)
        }

        test(
            "closing a stream, even one blocked on a slow producer, leaves no producer thread behind"
        ) {
            fun producerThreads() =
                Thread.getAllStackTraces().keys.count {
                    it.name.startsWith("looplab-producer-") && it.isAlive
                }
            val before = producerThreads()
            val stream =
                BatchStream(3, capacity = 1) { i ->
                    Thread.sleep(50)
                    i
                }
            stream.next() shouldBe 0L
            (producerThreads() - before) shouldBe 3
            stream.close()
            producerThreads() shouldBe before
            // A stream abandoned mid-way through a segment with a full channel is no different.
            val full = BatchStream(2, capacity = 2) { it }
            Thread.sleep(100)
            full.close()
            producerThreads() shouldBe before
            emptyList<Int>().shouldBeEmpty()
        }
    })
