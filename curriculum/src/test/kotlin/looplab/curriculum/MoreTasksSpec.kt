package looplab.curriculum

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.shouldBe
import io.kotest.property.Arb
import io.kotest.property.arbitrary.int
import io.kotest.property.arbitrary.long
import io.kotest.property.checkAll
import java.math.BigInteger
import kotlin.random.Random
import looplab.curriculum.data.BatchStream
import looplab.curriculum.data.Batcher
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.tasks.Chain
import looplab.curriculum.tasks.Compare
import looplab.curriculum.tasks.Dyck
import looplab.curriculum.tasks.ModAdd
import looplab.curriculum.tasks.Multiplication
import looplab.curriculum.tasks.Reverse
import looplab.curriculum.tasks.Successor
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.CharTokenizer
import looplab.dsl.AlgorithmicDataSpec
import looplab.dsl.LossScope
import looplab.dsl.SpecChecker
import looplab.dsl.Task
import looplab.dsl.TaskSpec

/** Each answer is checked against a computation written independently of the generator. */
class MoreTasksSpec :
    FunSpec({
        test("mod_add: the answer is the terms' sum reduced modulo 13 with BigInteger") {
            checkAll(Arb.long(), Arb.int(1..40)) { seed, length ->
                val ex = ModAdd.sample(Random(seed), length)
                val terms =
                    ex.prompt.removePrefix("mod13:").removeSuffix("=").split("+").map {
                        BigInteger(it)
                    }
                terms.size shouldBe length
                terms.all { it >= BigInteger.ZERO && it < BigInteger.valueOf(13) } shouldBe true
                ex.answer shouldBe
                    terms
                        .fold(BigInteger.ZERO, BigInteger::add)
                        .mod(BigInteger.valueOf(13))
                        .toString()
            }
        }

        test(
            "multiplication: the answer equals the product computed by repeated addition of shifted digits"
        ) {
            checkAll(Arb.long(), Arb.int(1..9)) { seed, length ->
                val ex = Multiplication.sample(Random(seed), length)
                val (a, b) = ex.prompt.removePrefix("mul:").removeSuffix("=").split("*")
                maxOf(a.length, b.length) shouldBe length
                // Schoolbook: sum of a * digit * 10^position, in Long where it fits, else
                // BigInteger.
                var total = BigInteger.ZERO
                b.reversed().forEachIndexed { pos, d ->
                    total +=
                        BigInteger(a) *
                            BigInteger.valueOf((d - '0').toLong()) *
                            BigInteger.TEN.pow(pos)
                }
                ex.answer shouldBe total.toString()
            }
        }

        test("reverse: reading the answer from the end gives the prompt") {
            checkAll(Arb.long(), Arb.int(1..40)) { seed, length ->
                val ex = Reverse.sample(Random(seed), length)
                val text = ex.prompt.removePrefix("rev:").removeSuffix("=")
                text.length shouldBe length
                (0 until length).all { ex.answer[it] == text[length - 1 - it] } shouldBe true
            }
        }

        test(
            "dyck: prefix + answer is balanced, the prefix alone is not, and the answer is only closers"
        ) {
            fun balanced(s: String): Boolean {
                val stack = mutableListOf<Char>()
                for (c in s) when (c) {
                    '(',
                    '[' -> stack += c
                    ')' -> if (stack.removeLastOrNull() != '(') return false
                    ']' -> if (stack.removeLastOrNull() != '[') return false
                    else -> return false
                }
                return stack.isEmpty()
            }
            checkAll(Arb.long(), Arb.int(1..40)) { seed, length ->
                val ex = Dyck.sample(Random(seed), length)
                val prefix = ex.prompt.removePrefix("dyck:").removeSuffix("=")
                prefix.length shouldBe length
                balanced(prefix + ex.answer) shouldBe true
                balanced(prefix) shouldBe false
                ex.answer.all { it == ')' || it == ']' } shouldBe true
            }
        }

        test(
            "chain: evaluating the operations left to right in plain integers, then mod 10, gives the answer"
        ) {
            checkAll(Arb.long(), Arb.int(1..30)) { seed, length ->
                val ex = Chain.sample(Random(seed), length)
                val body = ex.prompt.removePrefix("chain:").removeSuffix("=")
                val ops = Regex("([+*-])(\\d)").findAll(body.substring(1)).toList()
                ops.size shouldBe length
                var v = BigInteger.valueOf((body[0] - '0').toLong())
                for (op in ops) {
                    val d = BigInteger(op.groupValues[2])
                    v =
                        when (op.groupValues[1]) {
                            "+" -> v + d
                            "-" -> v - d
                            else -> v * d
                        }
                }
                ex.answer shouldBe v.mod(BigInteger.TEN).toString()
            }
        }

        test(
            "compare: the answer agrees with BigInteger comparison, and both numbers have `length` digits"
        ) {
            val seen = mutableSetOf<String>()
            checkAll(Arb.long(), Arb.int(1..30)) { seed, length ->
                val ex = Compare.sample(Random(seed), length)
                val (a, b) = ex.prompt.removePrefix("cmp:").removeSuffix("=").split(",")
                a.length shouldBe length
                b.length shouldBe length
                (b.length == 1 || b[0] != '0') shouldBe true
                ex.answer shouldBe
                    when (BigInteger(a).compareTo(BigInteger(b))) {
                        -1 -> "<"
                        0 -> "="
                        else -> ">"
                    }
                seen += ex.answer
            }
            seen shouldContainExactlyInAnyOrder listOf("<", "=", ">")
        }

        test("successor: the answer is the number plus one") {
            checkAll(Arb.long(), Arb.int(1..30)) { seed, length ->
                val ex = Successor.sample(Random(seed), length)
                val n = ex.prompt.removePrefix("succ:").removeSuffix("=")
                n.length shouldBe length
                ex.answer shouldBe (BigInteger(n) + BigInteger.ONE).toString()
            }
        }

        test("all ten tasks are built in and named as in the seed") {
            TaskRegistry().ids.map { it.name } shouldContainExactlyInAnyOrder
                listOf(
                    "mod_add",
                    "parity",
                    "addition",
                    "multiplication",
                    "copy",
                    "reverse",
                    "dyck",
                    "chain",
                    "compare",
                    "successor",
                )
            Task.all.map { it.name }.toSet() shouldBe TaskRegistry().ids.map { it.name }.toSet()
        }

        test("for every task, the same seed gives the same stream with 1 and 2 producers") {
            val batcher = Batcher(CharTokenizer, LossScope.Answer)
            for (id in Task.all) {
                val mixture =
                    TaskMixture.resolve(
                        AlgorithmicDataSpec(listOf(TaskSpec(id))),
                        TaskRegistry(),
                        5,
                        SpecChecker(),
                    )!!
                fun stream(producers: Int) =
                    BatchStream(producers) { i ->
                            batcher.batch((0 until 4).map { mixture.sample(i * 4 + it).example })
                        }
                        .use { s -> List(6) { s.next().inputs.toList() } }
                stream(2) shouldBe stream(1)
            }
        }
    })
