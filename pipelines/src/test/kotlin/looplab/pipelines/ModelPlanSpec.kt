package looplab.pipelines

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import looplab.dsl.*
import looplab.pipelines.cli.BuiltInExample
import looplab.pipelines.cli.ExampleCatalog
import looplab.pipelines.cli.LooplabCommand
import looplab.pipelines.cli.PlanCommand
import looplab.pipelines.cli.RunCommand
import looplab.pipelines.plan.PlanPrinter
import looplab.pipelines.plan.Planner

class ModelPlanSpec :
    FunSpec({
        fun withModel(block: ModelBuilder.() -> Unit) =
            tinyExperiment().let { base ->
                base.copy(
                    models =
                        experiment("x") {
                                model("m") {
                                    width = 32
                                    heads = 2
                                    contextLength = 16
                                    ffnHidden = 48
                                    block()
                                }
                            }
                            .models
                )
            }

        test("a vocabulary override is counted, printed, and must hold the tokenizer's tokens") {
            val plan = Planner().compile(withModel { vocabSize = 128 })
            plan.models.single().vocabRows shouldBe 128
            PlanPrinter.render(plan) shouldContain " 128 "
            val errors =
                shouldThrow<InvalidSpecException> {
                        Planner().compile(withModel { vocabSize = 50 })
                    }
                    .errors
                    .map { it.toString() }
            errors shouldContainAll
                listOf("model[m].vocabSize: must be ≥ the tokenizer's vocabulary (98), was 50")
        }

        test(
            "learned positions must cover what evaluation reads, out-of-distribution lengths included"
        ) {
            val errors =
                shouldThrow<InvalidSpecException> {
                        Planner().compile(withModel { positions = LearnedPositions })
                    }
                    .errors
                    .map { it.toString() }
            errors.single { it.startsWith("model[m].contextLength") } shouldContain
                "learned positions cover 16 positions, but evaluation reads up to"
            Planner()
                .compile(
                    withModel {
                        positions = LearnedPositions
                        contextLength = 40
                    }
                )
                .models
                .single()
                .parts shouldContainAll listOf("learned absolute positions (40)")
        }

        test("the printed plan names every part of a model") {
            val plan =
                Planner()
                    .compile(
                        withModel {
                            kvHeads = 1
                            recursive(blocks = 1, loops = 3) {
                                moe(experts = 4, topK = 2)
                                adapters(rank = 4)
                                interLoopNorm()
                            }
                            auxHeads(1)
                        }
                    )
            val text = PlanPrinter.render(plan)
            listOf(
                    "2x16 (1 kv)",
                    "GQA 2q/1kv",
                    "MoE 4 experts (1 shared), top-2",
                    "rank-4 adapters per (block, loop)",
                    "inter-loop RMSNorm",
                    "aux heads at loops 1 (0.3)",
                )
                .forEach { text shouldContain it }
        }

        context("the CLI's --full") {
            val catalog = ExampleCatalog {
                listOf(
                    BuiltInExample(
                        "small",
                        "cpu-sized",
                        full = { withModel { preset(Architecture.OsrtV3) } },
                    ) {
                        withModel {
                            preset(Architecture.OsrtV3)
                            width = 32
                            heads = 2
                            vocabSize = null
                        }
                    },
                    BuiltInExample("plain", "no full size") { tinyExperiment() },
                )
            }
            fun cli(args: String) =
                LooplabCommand().subcommands(PlanCommand(catalog), RunCommand(catalog)).test(args)

            test(
                "plan shows the CPU-sized default and the full-size count; --full plans the full size"
            ) {
                val plan = cli("plan small")
                plan.statusCode shouldBe 0
                plan.output shouldContain "At full size"
                plan.output shouldContain "104,537,600"
                val full = cli("plan small --full")
                full.output shouldContain "104,537,600"
                full.output shouldNotContain "At full size"
            }

            test("--full on an experiment without a full size says which have one") {
                val result = cli("plan plain --full")
                result.statusCode shouldNotBe 0
                result.output shouldContain
                    "\"plain\" has no full-size variant; built-in examples that have one: small"
            }
        }
    })
