package looplab.curriculum

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import kotlin.random.Random
import looplab.curriculum.chat.AssistantTurn
import looplab.curriculum.chat.ChatDataException
import looplab.curriculum.chat.ChatFiles
import looplab.curriculum.chat.ChatGenerator
import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatSource
import looplab.curriculum.chat.ChatSources
import looplab.curriculum.chat.ChatSplit
import looplab.curriculum.chat.Conversation
import looplab.curriculum.chat.TaskQuestionGenerator
import looplab.curriculum.chat.UserTurn
import looplab.curriculum.chat.WordProblemGenerator
import looplab.curriculum.tasks.Addition
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.tasks.withChatGenerators
import looplab.dsl.ChatDataSpec
import looplab.dsl.ChatJsonl
import looplab.dsl.CustomChat
import looplab.dsl.SpecChecker
import looplab.dsl.Task
import looplab.dsl.TaskId
import looplab.dsl.TaskQuestions
import looplab.dsl.WordProblems
import looplab.dsl.experiment

class ChatSourcesSpec :
    FunSpec({
        val dir = Files.createTempDirectory("chat")

        test("JSONL conversations are read with system, think and answer segments") {
            val file = dir.resolve("ok.jsonl")
            Files.writeString(
                file,
                """
                {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "", "think": "2+2=4", "answer": "4"}]}

                {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
                """
                    .trimIndent(),
            )
            ChatFiles.read(file) shouldBe
                listOf(
                    Conversation.qa("2+2?", "4", think = "2+2=4", system = "Be brief."),
                    Conversation(null, listOf(UserTurn("hi"), AssistantTurn("hello"))),
                )
        }

        test("every bad line of a JSONL file is reported at once, as file:line") {
            val file = dir.resolve("bad.jsonl")
            Files.writeString(
                file,
                listOf(
                        """{"messages": [{"role": "user", "content": "ok"}, {"role": "assistant", "content": "fine"}]}""",
                        """{"messages": [{"role": "user", "content": "no assistant"}]}""",
                        """not json""",
                        """{"messages": [{"role": "robot", "content": "x"}]}""",
                        """{"messages": [{"role": "user", "content": "sneaky <|answer|>5<|/answer|>"}, {"role": "assistant", "answer": "5"}]}""",
                        """{"messages": [{"role": "user"}, {"role": "assistant", "content": "x", "score": 1}]}""",
                    )
                    .joinToString("\n"),
            )
            val message = shouldThrow<ChatDataException> { ChatFiles.read(file) }.message!!
            message shouldContain
                "$file:2: ends with the user's turn; it must end with the assistant's"
            message shouldContain "$file:3: not JSON"
            message shouldContain
                "$file:4: messages[0].role: must be \"system\", \"user\" or \"assistant\", was \"robot\""
            message shouldContain
                "$file:5: turn 0 contains the chat tag <|answer|>; tags are written by the template, not by the text"
            message shouldContain "$file:6: messages[0].content: missing"
            message shouldContain
                "$file:6: messages[1]: unknown key \"score\" for a assistant message"
            message.lines().none { it.startsWith("$file:1:") } shouldBe true
            shouldThrow<ChatDataException> { ChatFiles.read(dir.resolve("absent.jsonl")) }
                .message shouldContain "no such chat file"
        }

        test(
            "word problems have exact answers: the worked reasoning checks out and ends at the answer"
        ) {
            val step = Regex("""(\d+) ([-+*/]) (\d+) = (\d+)""")
            for (split in ChatSplit.entries) repeat(200) { i ->
                val c = WordProblemGenerator.sample(Random(i), split)
                c.problems().shouldBeEmpty()
                val turn = c.turns.last() as AssistantTurn
                val steps = step.findAll(turn.think!!).toList()
                steps.size shouldBeGreaterThan 0
                steps.forEach { m ->
                    val (a, op, b, result) = m.destructured
                    val (x, y) = a.toLong() to b.toLong()
                    result.toLong() shouldBe
                        when (op) {
                            "+" -> x + y
                            "-" -> x - y
                            "*" -> x * y
                            else -> x / y.also { (x % y) shouldBe 0L }
                        }
                }
                steps.last().groupValues[4] shouldBe c.answer
                val numbers =
                    Regex("""\d+""")
                        .findAll((c.turns.first() as UserTurn).text)
                        .map { it.value.toLong() }
                        .toList()
                // In distribution the numbers drawn have 1-2 digits (a shared total up to 99·99);
                // out of it, 3-4.
                if (split == ChatSplit.InDistribution) numbers.max() shouldBeLessThan 99L * 99 + 1
                else numbers.max() shouldBeGreaterThanOrEqual 100L
            }
        }

        test(
            "task questions pose the task's prompt and answer it exactly; out of distribution uses the OOD lengths"
        ) {
            val gen = TaskQuestionGenerator(Addition)
            for (split in ChatSplit.entries) repeat(100) { i ->
                val c = gen.sample(Random(i), split)
                val question = (c.turns.first() as UserTurn).text
                val (a, b) = Regex("""add:(\d+)\+(\d+)=""").find(question)!!.destructured
                c.answer shouldBe (a.toBigInteger() + b.toBigInteger()).toString()
                val digits = maxOf(a.length, b.length)
                if (split == ChatSplit.InDistribution) (digits <= 4) shouldBe true
                else (digits >= 5) shouldBe true
            }
        }

        test(
            "a script's own generator is found by id; unknown ids, tasks and bad files are errors at their path"
        ) {
            val mine =
                object : ChatGenerator {
                    override val id = "echo"

                    override fun sample(random: Random, split: ChatSplit) =
                        Conversation.qa("Say ${random.nextInt(10)}.", "said")
                }
            val tasked =
                experiment("x") {
                        model("m") {
                            width = 32
                            heads = 4
                            layers = 1
                            contextLength = 16
                        }
                    }
                    .withChatGenerators(mine)
            tasked.chatGenerators shouldBe listOf(mine)
            val check = SpecChecker()
            val mixture =
                ChatSources.resolve(
                    ChatDataSpec(
                        listOf(
                            CustomChat("echo"),
                            WordProblems(),
                            TaskQuestions(listOf(Task.Parity)),
                        )
                    ),
                    1,
                    tasked.registry(),
                    check,
                    dir,
                )!!
            check.errors.shouldBeEmpty()
            mixture.sources.map { it.name } shouldBe listOf("echo", "word_problems", "task:parity")

            val bad = SpecChecker()
            ChatSources.resolve(
                    ChatDataSpec(
                        listOf(
                            CustomChat("nope"),
                            TaskQuestions(listOf(TaskId("zzz"))),
                            ChatJsonl("absent.jsonl"),
                        )
                    ),
                    1,
                    TaskRegistry(),
                    bad,
                    dir,
                )
                .shouldBeNull()
            val errors = bad.errors.map { it.toString() }
            errors.any {
                it.startsWith(
                    "sources[0].id: no chat generator \"nope\" is registered (registered: word_problems, digit_sums)"
                )
            } shouldBe true
            errors.any { it.startsWith("sources[1].tasks[0]: unknown task \"zzz\"") } shouldBe true
            errors.any { it.startsWith("sources[2].path: ") && "no such chat file" in it } shouldBe
                true
        }

        test(
            "a mixture is reproducible by index, and held-out conversations of a file are never trained on"
        ) {
            val file = (0 until 40).map { Conversation.qa("q$it", "a$it") }
            val mixture =
                ChatMixture(
                    listOf(
                        ChatSource.Fixed("file", file, 1.0),
                        ChatSource.Generated(WordProblemGenerator, 1.0),
                    ),
                    seed = 5,
                    heldOutEvery = 10,
                )
            (0L until 50L).map(mixture::train) shouldBe
                (0L until 50L).map(ChatMixture(mixture.sources, 5, 10)::train)
            mixture.train(1) shouldNotBe mixture.train(2)
            val heldOutQuestions = setOf("q9", "q19", "q29", "q39")
            val trained =
                (0L until 2000L).map { (mixture.train(it).turns.first() as UserTurn).text }.toSet()
            trained.intersect(heldOutQuestions).shouldBeEmpty()
            val held =
                (0L until 200L)
                    .map { (mixture.heldOut(it).turns.first() as UserTurn).text }
                    .filter { it.startsWith("q") }
                    .toSet()
            held shouldBe heldOutQuestions
            // Out of distribution only the generator takes part.
            ((0L until 20L).map { mixture.outOfDistribution(it)!!.answer!!.toLong() }.max() >
                99L) shouldBe true
            ChatMixture(listOf(ChatSource.Fixed("file", file, 1.0)), 5)
                .outOfDistribution(0)
                .shouldBeNull()
        }
    })
