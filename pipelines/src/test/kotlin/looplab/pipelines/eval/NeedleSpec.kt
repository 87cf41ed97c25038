package looplab.pipelines.eval

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import looplab.curriculum.language.CorpusLoader
import looplab.curriculum.tasks.AlgorithmicTask
import looplab.curriculum.tasks.Example
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.CharTokenizer
import looplab.dsl.AustenCorpus
import looplab.dsl.LengthRange
import looplab.dsl.TaskId
import looplab.dsl.experiment
import looplab.dsl.steps
import looplab.dsl.cosine
import looplab.models.Models
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import java.nio.file.Files
import kotlin.math.roundToInt
import kotlin.random.Random

private val austen by lazy { CorpusLoader.load(AustenCorpus).documents.take(40).joinToString(" ") }

/** Retrieval as a training task: the needle problems of [NeedleGenerator], as text, at random depths. */
private object Retrieval : AlgorithmicTask {
    val generator by lazy { NeedleGenerator(CharTokenizer, austen, NeedleFormat(digits = 2)) }
    override val id: TaskId = TaskId("retrieval")
    override val lengthUnit: String = "tokens"
    override val trainLengths: LengthRange = LengthRange(76, 84)
    override val oodLengths: List<Int> = listOf(90)
    override fun sample(random: Random, length: Int): Example {
        val problem = generator.problem(length, random.nextDouble(), random)
        return Example(CharTokenizer.decode(problem.prompt), problem.code)
    }
    override fun maxChars(length: Int): Int = length + 2
    override fun maxAnswerChars(length: Int): Int = 2
}

class NeedleSpec : FunSpec({
    test("the code sits at the stated depth of the filler, the question at the end, and it is the only number") {
        val generator = NeedleGenerator(CharTokenizer, austen)
        for (length in listOf(120, 333)) for (depth in listOf(0.0, 0.1, 0.25, 0.5, 0.9, 1.0)) {
            val p = generator.problem(length, depth, Random(length + (depth * 100).toInt()))
            withClue("length $length, depth $depth") {
                p.prompt.size shouldBe length
                p.prompt[0] shouldBe CharTokenizer.bos
                (p.needleAt - 1) shouldBe (depth * p.fillerTokens).roundToInt()
                val text = CharTokenizer.decode(p.prompt)
                text.substring(p.needleAt - 1).startsWith(" The secret code is ${p.code}. ") shouldBe true
                text.endsWith(" What is the secret code? The secret code is ") shouldBe true
                Regex("[0-9]+").findAll(text).map { it.value }.toList() shouldContainExactly listOf(p.code)
                CharTokenizer.decode(p.answer) shouldBe p.code
            }
        }
    }

    // Not shown yet: a tiny model trained on this task finding the needle above chance. A 2-layer, width-48 model stayed
    // at chance (answer loss 1.53 = 2·ln 10 / 3 after 400 steps at 3e-3) on this machine; that test needs a design that
    // learns in CPU test time. What is held here: the suite runs as an eval stage, reports lengths past the context as
    // such, and an untrained model does not retrieve.
    test("needles as an eval stage: lengths past the context are reported so, and an untrained model is at chance") {
        val spec = experiment("retrieve") {
            seed = 11
            data { algorithmic { task(Retrieval.id, train = 76..84, ood = listOf(90)) } }
            model("retriever") { width = 48; heads = 4; layers = 2; contextLength = 96; ffnHidden = 96 }
            pipeline {
                val base = pretrain { budget = 4.steps; batchSize = 4; lr = cosine(peak = 3e-3, warmup = 1.steps); evalSamples = 1; logEvery = 2.steps }
                eval(base) { needles(lengths = listOf(80, 200), depths = listOf(0.0, 0.5, 1.0), samples = 10, digits = 2) }
            }
        }
        val result = Runner(TaskRegistry().plus(listOf(Retrieval))).run(spec, RunOptions(runsDir = Files.createTempDirectory("needles")))
        val needles = result.results.getValue("longctx").results.single().needles!!
        needles.chance shouldBe 0.01
        needles.contextLength shouldBe 96
        val measured = needles.cells.filter { it.withinContext }
        measured.map { it.length }.distinct() shouldBe listOf(80)
        measured.all { it.correct != null && it.total == 10 } shouldBe true
        // 200 tokens do not fit the 96-token context: reported so, not truncated.
        needles.cells.filter { it.length == 200 }.all { !it.withinContext && it.correct == null } shouldBe true
        Files.exists(result.dir.resolve("longctx_retriever_eval.png")) shouldBe true

        EagerBackend().use { backend ->
            val model = Models.build(result.plan.experiment.models.single(), CharTokenizer.vocabSize)
            ParameterStore(model.parameters, backend, seed = 11).use { store ->
                val untrained = NeedleEvaluator(Completers.greedy(model, store, backend, CharTokenizer.eos), NeedleGenerator(CharTokenizer, austen, NeedleFormat(digits = 2)), 96, 11)
                    .evaluate(listOf(80), listOf(0.0, 0.5, 1.0), 20)
                untrained.cells.map { it.accuracy!! }.average() shouldBeLessThan 0.05
            }
        }
    }
})
