package looplab.pipelines.eval

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import kotlin.math.roundToInt
import kotlin.random.Random
import looplab.curriculum.data.TokenBatch
import looplab.curriculum.language.CorpusLoader
import looplab.curriculum.tasks.AlgorithmicTask
import looplab.curriculum.tasks.Example
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.CharTokenizer
import looplab.dsl.AdamW
import looplab.dsl.AustenCorpus
import looplab.dsl.LengthRange
import looplab.dsl.TaskId
import looplab.dsl.cosine
import looplab.dsl.experiment
import looplab.dsl.steps
import looplab.models.Models
import looplab.models.Pass
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.optim.AdamWOptimizer
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import looplab.pipelines.train.TokenObjective

private val austen by lazy { CorpusLoader.load(AustenCorpus).documents.take(40).joinToString(" ") }

/**
 * Retrieval as a training task: the needle problems of [NeedleGenerator], as text, at random
 * depths.
 */
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

class NeedleSpec :
    FunSpec({
        test(
            "the code sits at the stated depth of the filler, the question at the end, and it is the only number"
        ) {
            val generator = NeedleGenerator(CharTokenizer, austen)
            for (length in listOf(120, 333)) for (depth in listOf(0.0, 0.1, 0.25, 0.5, 0.9, 1.0)) {
                val p = generator.problem(length, depth, Random(length + (depth * 100).toInt()))
                withClue("length $length, depth $depth") {
                    p.prompt.size shouldBe length
                    p.prompt[0] shouldBe CharTokenizer.bos
                    (p.needleAt - 1) shouldBe (depth * p.fillerTokens).roundToInt()
                    val text = CharTokenizer.decode(p.prompt)
                    text
                        .substring(p.needleAt - 1)
                        .startsWith(" The secret code is ${p.code}. ") shouldBe true
                    text.endsWith(" What is the secret code? The secret code is ") shouldBe true
                    Regex("[0-9]+").findAll(text).map { it.value }.toList() shouldContainExactly
                        listOf(p.code)
                    CharTokenizer.decode(p.answer) shouldBe p.code
                }
            }
        }

        test(
            "a tiny model trained on needle problems retrieves the code far above chance; the same model untrained does not"
        ) {
            // One digit, so that one attention head that finds the only digit in the prompt and
            // copies it solves the task;
            // the loss is on the answer alone, so every step's gradient is about retrieval, not the
            // filler.
            val generator =
                NeedleGenerator(
                    CharTokenizer,
                    austen,
                    NeedleFormat(
                        needle = " The code is {code}. ",
                        question = " The code is ",
                        digits = 1,
                    ),
                )
            val spec =
                experiment("retrieve") {
                        model("retriever") {
                            width = 64
                            heads = 4
                            layers = 2
                            contextLength = 64
                            ffnHidden = 128
                        }
                    }
                    .models
                    .single()
            val model = Models.build(spec, CharTokenizer.vocabSize)
            EagerBackend().use { backend ->
                ParameterStore(model.parameters, backend, seed = 5).use { store ->
                    val evaluator =
                        NeedleEvaluator(
                            Completers.greedy(model, store, backend, CharTokenizer.eos),
                            generator,
                            contextLength = 64,
                            seed = 99,
                        )
                    fun accuracy() =
                        evaluator
                            .evaluate(listOf(48), listOf(0.0, 0.25, 0.5, 0.75, 1.0), samples = 20)
                            .cells
                            .map { it.accuracy!! }
                            .average()
                    val untrained = accuracy()
                    val objective = TokenObjective(EagerExecutor(backend), model, store)
                    val optimizer = AdamWOptimizer(store, backend, AdamW())
                    val random = Random(3)
                    var loss = 0.0
                    repeat(RETRIEVAL_STEPS) { step ->
                        store.zeroGradients()
                        loss =
                            objective
                                .forwardBackward(
                                    answerOnlyBatch(generator, random, rows = 16, length = 48),
                                    Pass(training = true, step = step.toLong()),
                                    1.0,
                                )
                                .loss
                        optimizer.step(3e-3, clipNorm = 1.0)
                    }
                    val trained = accuracy()
                    println(
                        "needle retrieval, 1 digit (chance 10%): untrained ${"%.1f".format(untrained * 100)}%, after $RETRIEVAL_STEPS steps ${"%.1f".format(trained * 100)}% (last answer loss ${"%.3f".format(loss)})"
                    )
                    generator.format.chance shouldBe 0.1
                    untrained shouldBeLessThan 0.25
                    trained shouldBeGreaterThan 0.6
                }
            }
        }

        test(
            "needles as an eval stage: lengths past the context are reported so, and an untrained model is at chance"
        ) {
            val spec =
                experiment("retrieve") {
                    seed = 11
                    data { algorithmic { task(Retrieval.id, train = 76..84, ood = listOf(90)) } }
                    model("retriever") {
                        width = 48
                        heads = 4
                        layers = 2
                        contextLength = 96
                        ffnHidden = 96
                    }
                    pipeline {
                        val base = pretrain {
                            budget = 4.steps
                            batchSize = 4
                            lr = cosine(peak = 3e-3, warmup = 1.steps)
                            evalSamples = 1
                            logEvery = 2.steps
                        }
                        eval(base) {
                            needles(
                                lengths = listOf(80, 200),
                                depths = listOf(0.0, 0.5, 1.0),
                                samples = 10,
                                digits = 2,
                            )
                        }
                    }
                }
            val result =
                Runner(TaskRegistry().plus(listOf(Retrieval)))
                    .run(spec, RunOptions(runsDir = Files.createTempDirectory("needles")))
            val needles = result.results.getValue("longctx").results.single().needles!!
            needles.chance shouldBe 0.01
            needles.contextLength shouldBe 96
            val measured = needles.cells.filter { it.withinContext }
            measured.map { it.length }.distinct() shouldBe listOf(80)
            measured.all { it.correct != null && it.total == 10 } shouldBe true
            // 200 tokens do not fit the 96-token context: reported so, not truncated.
            needles.cells
                .filter { it.length == 200 }
                .all { !it.withinContext && it.correct == null } shouldBe true
            Files.exists(result.dir.resolve("longctx_retriever_eval.png")) shouldBe true

            EagerBackend().use { backend ->
                val model =
                    Models.build(result.plan.experiment.models.single(), CharTokenizer.vocabSize)
                ParameterStore(model.parameters, backend, seed = 11).use { store ->
                    val untrained =
                        NeedleEvaluator(
                                Completers.greedy(model, store, backend, CharTokenizer.eos),
                                NeedleGenerator(CharTokenizer, austen, NeedleFormat(digits = 2)),
                                96,
                                11,
                            )
                            .evaluate(listOf(80), listOf(0.0, 0.5, 1.0), 20)
                    untrained.cells.map { it.accuracy!! }.average() shouldBeLessThan 0.05
                }
            }
        }
    })

private const val RETRIEVAL_STEPS = 300

/**
 * Needle problems at random depths with the loss on the answer token alone (the target after the
 * question).
 */
private fun answerOnlyBatch(
    generator: NeedleGenerator,
    random: Random,
    rows: Int,
    length: Int,
): TokenBatch {
    val inputs = IntArray(rows * length)
    val targets = IntArray(rows * length)
    val mask = FloatArray(rows * length)
    repeat(rows) { r ->
        val p = generator.problem(length, random.nextDouble(), random)
        p.prompt.copyInto(inputs, r * length)
        p.prompt.copyInto(targets, r * length, 1)
        targets[r * length + length - 1] = p.answer.single()
        mask[r * length + length - 1] = 1f
    }
    return TokenBatch(inputs, targets, mask, rows, length, tokens = rows * length)
}
