package looplab.curriculum

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.property.Arb
import io.kotest.property.arbitrary.int
import io.kotest.property.arbitrary.long
import io.kotest.property.checkAll
import kotlin.random.Random
import looplab.curriculum.tasks.Addition
import looplab.curriculum.tasks.Copy
import looplab.curriculum.tasks.Parity
import looplab.curriculum.tasks.TaskRegistry

class TasksSpec :
    FunSpec({
        test("parity answers agree with an XOR fold of the bits") {
            checkAll(Arb.long(), Arb.int(1..64)) { seed, length ->
                val ex = Parity.sample(Random(seed), length)
                val bits = ex.prompt.removePrefix("parity:").removeSuffix("=")
                bits.length shouldBe length
                val xor = bits.fold(0) { acc, c -> acc xor (c - '0') }
                ex.answer shouldBe xor.toString()
            }
        }

        test(
            "addition answers agree with Long arithmetic, and the longer operand has `length` digits"
        ) {
            checkAll(Arb.long(), Arb.int(1..17)) { seed, length ->
                val ex = Addition.sample(Random(seed), length)
                val (a, b) = ex.prompt.removePrefix("add:").removeSuffix("=").split("+")
                maxOf(a.length, b.length) shouldBe length
                (a.length == 1 || a[0] != '0') shouldBe true
                ex.answer shouldBe (a.toLong() + b.toLong()).toString()
            }
        }

        test("copy answers repeat the prompt's letters") {
            checkAll(Arb.long(), Arb.int(1..40)) { seed, length ->
                val ex = Copy.sample(Random(seed), length)
                val text = ex.prompt.removePrefix("copy:").removeSuffix("=")
                text.length shouldBe length
                text.all { it in 'a'..'z' } shouldBe true
                ex.answer shouldBe text
            }
        }

        test("every example fits the length bound its task declares") {
            for (task in TaskRegistry.builtIn) {
                for (length in task.trainLengths.min..task.oodLengths.max()) {
                    repeat(20) { i ->
                        val ex = task.sample(Random(i), length)
                        (ex.prompt.length + ex.answer.length) shouldBeLessThanOrEqual
                            task.maxChars(length)
                        ex.answer.length shouldBeLessThanOrEqual task.maxAnswerChars(length)
                    }
                }
            }
        }

        test(
            "default out-of-distribution grids never overlap the training lengths, and reach the seed's lengths"
        ) {
            for (task in TaskRegistry.builtIn) {
                task.oodLengths.filter { it in task.trainLengths }.shouldBeEmpty()
            }
            Parity.trainLengths.max shouldBe 8
            Parity.oodLengths.max() shouldBe 64
            Addition.trainLengths.max shouldBe 4
            Addition.oodLengths.max() shouldBe 8
        }
    })
