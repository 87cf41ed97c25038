package looplab.pipelines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import kotlin.math.ceil
import looplab.dsl.*
import looplab.pipelines.plan.PlanPrinter
import looplab.pipelines.plan.Planner

class DataPlanningSpec :
    FunSpec({
        fun splitExperiment(budget: Budget, data: DataBuilder.() -> Unit) =
            experiment("split") {
                data(data)
                model("m") {
                    width = 32
                    heads = 2
                    layers = 1
                    contextLength = 64
                }
                pipeline {
                    pretrain {
                        this.budget = budget
                        batchSize = 4
                        evalEvery = 10.steps
                    }
                }
            }

        test("a split curriculum is fixed in steps and printed; the held-out split is recorded") {
            val plan =
                Planner()
                    .compile(
                        splitExperiment(50.k.tokens) {
                            tokenizer = Tokenizers.bytes
                            algorithmic(tasks = listOf(Task.Parity, Task.Copy), tokens = 10.k)
                            language(Corpus.Austen, tokens = 40.k, sequenceLength = 32)
                        }
                    )
            plan.data.phases.map { it.algorithmic to it.language } shouldBe
                listOf(1.0 to 0.0, 0.0 to 1.0)
            plan.data.language!!.split shouldBe "document i is held out when i % 20 == 19"
            val text = PlanPrinter.render(plan)
            text shouldContain "split curriculum"
            text shouldContain "gzip -9 on held-out text"
        }

        test(
            "an algorithmic batch of its own size: the phase counts steps by it, batches hold that many examples, 0 is refused"
        ) {
            fun split(examples: Int?) =
                splitExperiment(50.k.tokens) {
                    tokenizer = Tokenizers.bytes
                    algorithmic(
                        tasks = listOf(Task.Parity, Task.Copy),
                        tokens = 10.k,
                        examplesPerBatch = examples,
                    )
                    language(Corpus.Austen, tokens = 40.k, sequenceLength = 32)
                }
            val (plan, data) = Planner().compileResolved(split(32))
            val algorithmicSteps = plan.data.phases.first().untilStep
            algorithmicSteps shouldBe ceil(10_000 / (32 * data.meanExample)).toLong()
            // The stage's batch of 4 would need 8 times the steps for the same tokens.
            Planner().compile(split(null)).data.phases.first().untilStep shouldBe
                ceil(10_000 / (4 * data.meanExample)).toLong()
            val training = data.trainingData(plan.experiment, batchSize = 4)
            training.batch(0).batch shouldBe 32
            training.validationBatches().first().batch shouldBe 32
            // Language rows keep the stage's batch size.
            training.batch(algorithmicSteps).let { (it.batch to it.length) shouldBe (4 to 32) }
            PlanPrinter.render(plan) shouldContain "(algorithmic batches: 32 examples)"
            shouldThrow<InvalidSpecException> { Planner().compile(split(0)) }
                .errors
                .single()
                .toString() shouldBe "data.algorithmic.examplesPerBatch: must be ≥ 1, was 0"
        }

        test(
            "phases that exceed the token budget, and unknown tasks in a DAG, are spec errors with paths"
        ) {
            val errors =
                shouldThrow<InvalidSpecException> {
                        Planner()
                            .compile(
                                splitExperiment(20.k.tokens) {
                                    tokenizer = Tokenizers.bytes
                                    algorithmic(Task.Parity, Task.Copy)
                                    language(Corpus.Austen)
                                    curriculum {
                                        phase(tokens = 15.k, algorithmic = 1.0)
                                        phase(tokens = 15.k, language = 1.0, algorithmic = 0.0)
                                        tasks = dag(stage(Task.Parity), stage(Task.Addition))
                                    }
                                }
                            )
                    }
                    .errors
                    .map { it.toString() }
            errors shouldContain
                "data.curriculum.phases: the phases add up to 30000 tokens, more than the 20000 tokens of pipeline.pretrain.budget"
            errors shouldContain
                "data.curriculum.tasks.stages[1].tasks: \"addition\" is not a task of the mixture (parity, copy)"
            errors shouldContain
                "data.curriculum.tasks.stages: task \"copy\" of the mixture is in no stage"
        }

        test(
            "a non-UTF-8 corpus, a malformed tokenizer.json and the char tokenizer on text are named clearly"
        ) {
            val dir = Files.createTempDirectory("bad-data")
            val latin1 =
                dir.resolve("latin1.txt").also {
                    Files.write(it, "caf".toByteArray() + byteArrayOf(0xE9.toByte()))
                }
            shouldThrow<InvalidSpecException> {
                    Planner()
                        .compile(
                            splitExperiment(100.steps) {
                                tokenizer = Tokenizers.bytes
                                language(Corpus.text(latin1.toString()))
                            }
                        )
                }
                .errors
                .single()
                .toString() shouldBe
                "data.language.corpus: $latin1: not UTF-8 text (invalid byte sequence at byte 3)"
            val broken =
                dir.resolve("tokenizer.json").also { Files.writeString(it, "{\"model\": 3") }
            shouldThrow<InvalidSpecException> {
                    Planner()
                        .compile(
                            splitExperiment(100.steps) {
                                tokenizer = Tokenizers.huggingFace(broken.toString())
                                language(Corpus.Austen)
                            }
                        )
                }
                .errors
                .single()
                .toString() shouldContain "data.tokenizer: $broken is not a valid tokenizer.json"
            shouldThrow<InvalidSpecException> {
                    Planner().compile(splitExperiment(100.steps) { language(Corpus.Austen) })
                }
                .errors
                .single()
                .path shouldBe "data.tokenizer"
        }
    })
