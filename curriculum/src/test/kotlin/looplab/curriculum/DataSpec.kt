package looplab.curriculum

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import looplab.curriculum.data.BatchStream
import looplab.curriculum.data.Batcher
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.tasks.Example
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.CharTokenizer
import looplab.curriculum.text.UnencodableTextException
import looplab.dsl.AlgorithmicDataSpec
import looplab.dsl.LossScope
import looplab.dsl.SpecChecker
import looplab.dsl.Task
import looplab.dsl.TaskId
import looplab.dsl.TaskSpec

class DataSpec :
    FunSpec({
        val spec =
            AlgorithmicDataSpec(
                listOf(
                    TaskSpec(Task.Parity),
                    TaskSpec(Task.Addition, weight = 2.0),
                    TaskSpec(Task.Copy),
                )
            )

        fun mixture(seed: Long) = TaskMixture.resolve(spec, TaskRegistry(), seed, SpecChecker())!!

        test("the same seed gives the same batches with 1 and 2 producers") {
            val batcher = Batcher(CharTokenizer, LossScope.Answer)
            fun stream(producers: Int) =
                BatchStream(producers) { index ->
                    batcher.batch((0 until 8).map { mixture(42).sample(index * 8 + it).example })
                }
            val one = stream(1).use { s -> List(12) { s.next().inputs.toList() } }
            val two = stream(2).use { s -> List(12) { s.next().inputs.toList() } }
            one shouldBe two
            val otherSeed =
                BatchStream(2) { index ->
                        batcher.batch(
                            (0 until 8).map { mixture(43).sample(index * 8 + it).example }
                        )
                    }
                    .use { s -> List(12) { s.next().inputs.toList() } }
            (otherSeed == one) shouldBe false
        }

        test("a resumed stream continues exactly where the original was") {
            val straight =
                BatchStream(2) { mixture(1).sample(it) }.use { s -> List(10) { s.next() } }
            val resumed =
                BatchStream(3, start = 6) { mixture(1).sample(it) }
                    .use { s -> List(4) { s.next() } }
            resumed shouldBe straight.drop(6)
        }

        test("a producer's failure reaches the consumer") {
            val stream = BatchStream(2) { if (it == 3L) error("generator broke at 3") else it }
            stream.use { s ->
                List(3) { s.next() } shouldBe listOf(0L, 1L, 2L)
                shouldThrow<IllegalStateException> { s.next() }.message shouldBe
                    "generator broke at 3"
            }
        }

        test("the mixture follows its weights") {
            val counts = (0 until 4000L).groupingBy { mixture(9).sample(it).task }.eachCount()
            (counts.getValue(Task.Addition).toDouble() / 4000) shouldBe (0.5 plusOrMinus 0.04)
            (counts.getValue(Task.Parity).toDouble() / 4000) shouldBe (0.25 plusOrMinus 0.04)
        }

        test("loss falls on the answer and end-of-sequence only, never on padding") {
            val batcher = Batcher(CharTokenizer, LossScope.Answer)
            val batch = batcher.batch(listOf(Example("add:1+2=", "3"), Example("copy:ab=", "ab")))
            batch.length shouldBe 16
            val row0 = (0 until batch.length).map { batch.mask[it] }
            // BOS a d d : 1 + 2 = 3 EOS: 11 ids; targets 0..9; the answer "3" is target 8 and EOS
            // target 9.
            row0.indices.filter { row0[it] == 1f } shouldBe listOf(8, 9)
            CharTokenizer.decode(intArrayOf(batch.targets[8])) shouldBe "3"
            batch.targets[9] shouldBe CharTokenizer.eos
            batch.inputs.drop(10).take(6).all { it == CharTokenizer.pad } shouldBe true
            batch.tokens shouldBe 10 + 11
            val all = Batcher(CharTokenizer, LossScope.All).batch(listOf(Example("add:1+2=", "3")))
            all.mask.count { it == 1f } shouldBe 10
        }

        test("the character tokenizer round-trips printable text and names what it cannot encode") {
            val text = "add:4821+97=4918 ~{}"
            CharTokenizer.decode(CharTokenizer.encode(text)) shouldBe text
            val e = shouldThrow<UnencodableTextException> { CharTokenizer.encode("ok\u00e9") }
            e.message shouldContain "index 2"
            e.message shouldContain "U+00E9"
        }

        test("an unknown task is reported at its path with the known names") {
            val check = SpecChecker("data.algorithmic")
            val bad =
                AlgorithmicDataSpec(listOf(TaskSpec(Task.Parity), TaskSpec(TaskId("sorting"))))
            TaskMixture.resolve(bad, TaskRegistry(), 1, check) shouldBe null
            check.errors.single().toString() shouldBe
                "data.algorithmic.tasks[1].task: unknown task \"sorting\"; known tasks: addition, chain, compare, copy, dyck, mod_add, multiplication, parity, reverse, successor"
        }
    })
