package looplab.pipelines.eval

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path
import kotlin.random.Random
import kotlinx.serialization.json.Json
import looplab.curriculum.chat.ChatGenerator
import looplab.curriculum.chat.ChatSplit
import looplab.curriculum.chat.Conversation
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.tasks.withChatGenerators
import looplab.dsl.*
import looplab.pipelines.compare.Comparison
import looplab.pipelines.compare.ComparisonReport
import looplab.pipelines.compare.RunRecords
import looplab.pipelines.metrics.AccuracyCell
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.plan.Planner
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import looplab.pipelines.run.SuiteEntry
import looplab.pipelines.tinyCopyInBytes
import looplab.pipelines.tinyPretrain

/**
 * Copy pretrained in bytes, then asked as chat questions; eval stages measure both stages. [more]
 * adds stages after the SFT stage.
 */
private fun chatPipeline(
    more: PipelineBuilder.(tuned: ModelRef) -> Unit = {},
    sftData: ChatDataBuilder.() -> Unit = { taskQuestions(listOf(Task.Copy)) },
    evalPretrained: EvalBuilder.() -> Unit,
) =
    experiment("chat-suite") {
        seed = 3
        tinyCopyInBytes()
        pipeline {
            val base = tinyPretrain()
            val tuned =
                sft(from = base) {
                    budget = 40.steps
                    batchSize = 8
                    lr = cosine(peak = 3e-3, warmup = 5.steps)
                    data(sftData)
                    evalSamples = 12
                }
            eval(base, id = "eval-pretrain", block = evalPretrained)
            eval(tuned, id = "eval-sft") { chat(12) }
            more(tuned)
        }
    }

/** A finished run of [spec]: its chat suite results and its evaluation events, in order. */
private class ChatRun(spec: ExperimentSpec, registry: TaskRegistry = TaskRegistry()) {
    val dir: Path =
        Runner(registry)
            .run(spec, RunOptions(runsDir = Files.createTempDirectory("chat"), quiet = true))
            .also { it.succeeded shouldBe true }
            .dir

    val suites: List<SuiteEntry> = EvalHub.read(dir, Suite.Chat)!!.results

    val evaluations: List<EvalMetrics> =
        Files.readAllLines(dir.resolve("metrics.jsonl"))
            .map { events.decodeFromString(MetricEvent.serializer(), it) }
            .filterIsInstance<EvalMetrics>()

    /** The cells of eval stage [stage], as (task, split, correct to total). */
    fun suite(stage: String) = suites.single { it.stage == stage }.cells!!.map { it.counts() }

    private companion object {
        val events = Json { classDiscriminator = "type" }
    }
}

private fun AccuracyCell.counts() = Triple(task, split, correct to total)

class ChatSuiteSpec :
    FunSpec({
        test(
            "an eval stage's chat suite measures the SFT weights exactly as the SFT stage measured them, and compare shows it per stage"
        ) {
            val spec = chatPipeline { chat(12) { taskQuestions(listOf(Task.Copy)) } }
            val run = ChatRun(spec)
            run.suites.map { it.stage } shouldBe listOf("eval-pretrain", "eval-sft")
            val sftEnd = run.evaluations.last { it.stage == "sft" }
            // The same weights, the same held-out questions (the SFT data's, found through the
            // stage the weights come from), the same greedy decoding: the same counts.
            val measured = run.suites.single { it.stage == "eval-sft" }.cells!!
            measured.map { it.counts() } shouldBe sftEnd.accuracy.map { it.counts() }
            measured.filter { it.split == "iid" }.map { it.total } shouldBe listOf(12, 12)
            // Never trained on chat tags, the pretrained model answers in no format.
            run.suites
                .single { it.stage == "eval-pretrain" }
                .cells!!
                .single { it.task == "format" && it.split == "iid" }
                .correct shouldBe 0
            val table = ComparisonReport.markdown(Comparison.of(RunRecords.load(listOf(run.dir))))
            table shouldContain "chat answer IID"
            val sftRow = table.lines().single { it.startsWith("| m | eval-sft |") }
            val answer = measured.single { it.task == "answer" && it.split == "iid" }
            sftRow shouldContain "%.1f".format(java.util.Locale.ROOT, 100 * answer.accuracy)
            Files.exists(run.dir.resolve("posttrain.png")) shouldBe true
        }

        test(
            "a GRPO stage's evaluation asks its evalQuestions, not its prompts: at step 0 it counts what the chat suite counts on the SFT weights"
        ) {
            // A file of questions has no out-of-distribution split, the digit sums (the prompts)
            // have one: the OOD totals tell which set the evaluation asked.
            val file = Files.createTempFile("questions", ".jsonl")
            Files.write(
                file,
                (0 until 20).map {
                    """{"messages": [{"role": "user", "content": "copy:${"ab".repeat(1 + it % 2)}="}, {"role": "assistant", "content": "", "answer": "${"ab".repeat(1 + it % 2)}"}]}"""
                },
            )
            val spec =
                chatPipeline(
                    more = { tuned ->
                        eval(tuned, id = "eval-file") { chat(12) { jsonl(file.toString()) } }
                        grpo(from = tuned) {
                            budget = 1.steps
                            promptsPerStep = 2
                            groupSize = 2
                            maxNewTokens = 12
                            prompts { digitSums() }
                            evalQuestions { jsonl(file.toString()) }
                            evalSamples = 12
                        }
                    }
                ) {
                    chat(1) { taskQuestions(listOf(Task.Copy)) }
                }
            val run = ChatRun(spec)
            val grpoStart = run.evaluations.first { it.stage == "grpo" }
            grpoStart.accuracy.filter { it.split == "ood" }.sumOf { it.total } shouldBe 0
            grpoStart.accuracy.filter { it.split == "iid" }.map { it.total } shouldBe listOf(12, 12)
            grpoStart.accuracy.map { it.counts() } shouldBe run.suite("eval-file")
            // The walk back from the GRPO weights finds the same questions.
            val stage = spec.pipeline.stages.filterIsInstance<GrpoSpec>().single()
            ChatSuite.data(ChatEvalSpec(), spec.pipeline, stage.id) shouldBe stage.evalQuestions
        }

        test(
            "a chat generator registered with the experiment reaches the run: SFT trains on it, GRPO is prompted with it, the chat suite asks it"
        ) {
            val echo =
                object : ChatGenerator {
                    override val id = "echo"

                    override fun sample(random: Random, split: ChatSplit): Conversation {
                        val n =
                            if (split == ChatSplit.InDistribution) random.nextInt(10)
                            else 10 + random.nextInt(90)
                        return Conversation.qa("echo $n", "$n")
                    }
                }
            val spec =
                chatPipeline(
                    sftData = { generator("echo") },
                    more = { tuned ->
                        grpo(from = tuned) {
                            budget = 1.steps
                            promptsPerStep = 2
                            groupSize = 2
                            maxNewTokens = 8
                            prompts { generator("echo") }
                            evalSamples = 4
                        }
                    },
                ) {
                    chat(4) { generator("echo") }
                }
            val tasked = spec.withChatGenerators(echo)
            // Without it, planning names the missing generator at its path.
            shouldThrow<InvalidSpecException> { Planner().compile(spec) }.message!! shouldContain
                "pipeline.sft.data.sources[0].id: no chat generator \"echo\" is registered"
            val run = ChatRun(spec, tasked.registry())
            run.suites.map { it.stage } shouldBe listOf("eval-pretrain", "eval-sft")
            val stages = run.evaluations.map { it.stage }.toSet()
            stages shouldBe setOf("pretrain", "sft", "grpo", "eval-pretrain", "eval-sft")
        }

        test(
            "a chat suite on weights that come from no sft or grpo stage, without data of its own, is refused at its path"
        ) {
            val message =
                shouldThrow<InvalidSpecException> { Planner().compile(chatPipeline { chat(12) }) }
                    .message!!
            message shouldContain "pipeline.eval-pretrain.chat"
            message shouldContain "give chat { taskQuestions(...) }"
        }

        test("a chat suite's own questions are checked when the run is planned, at their path") {
            val message =
                shouldThrow<InvalidSpecException> {
                        Planner()
                            .compile(
                                chatPipeline { chat(12) { taskQuestions(listOf(TaskId("zzz"))) } }
                            )
                    }
                    .message!!
            message shouldContain
                "pipeline.eval-pretrain.chat.data.sources[0].tasks[0]: unknown task \"zzz\""
        }

        test(
            "the chat data is the suite's own, else that of the nearest sft or grpo stage behind the weights"
        ) {
            val sftData = ChatDataSpec(listOf(TaskQuestions(listOf(Task.Copy))))
            val grpoData = ChatDataSpec(listOf(WordProblems()))
            val pipeline =
                PipelineSpec(
                    listOf(
                        PretrainSpec("pre", Steps(1)),
                        SftSpec("sft", "pre", Steps(1), data = sftData),
                        PretrainSpec("more", Steps(1), from = "sft"),
                        GrpoSpec("rl", "more", Steps(1), prompts = grpoData),
                    )
                )
            ChatSuite.data(ChatEvalSpec(), pipeline, "rl") shouldBe grpoData
            val asked = ChatDataSpec(listOf(TaskQuestions(listOf(Task.Parity))))
            val measured =
                pipeline.copy(
                    stages =
                        pipeline.stages.map {
                            if (it is GrpoSpec) it.copy(evalQuestions = asked) else it
                        }
                )
            ChatSuite.data(ChatEvalSpec(), measured, "rl") shouldBe asked
            ChatSuite.data(ChatEvalSpec(), pipeline, "more") shouldBe sftData
            ChatSuite.data(ChatEvalSpec(), pipeline, "pre") shouldBe null
            val own = ChatDataSpec(listOf(WordProblems(2.0)))
            ChatSuite.data(ChatEvalSpec(data = own), pipeline, "rl") shouldBe own
        }
    })
