package looplab.pipelines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import looplab.dsl.InvalidSpecException
import looplab.dsl.Task
import looplab.dsl.Tokenizers
import looplab.dsl.experiment
import looplab.dsl.grpo
import looplab.dsl.sft
import looplab.dsl.steps
import looplab.pipelines.plan.Planner

class PostTrainingPlanSpec :
    FunSpec({
        fun spec(bytes: Boolean, maxNew: Int = 16) =
            experiment("post") {
                data {
                    if (bytes) tokenizer = Tokenizers.bytes
                    algorithmic(Task.Parity)
                }
                model("m") {
                    width = 32
                    heads = 4
                    layers = 1
                    contextLength = 256
                }
                pipeline {
                    val base = pretrain { budget = 10.steps }
                    val tuned = sft(from = base) { budget = 50.steps }
                    grpo(from = tuned) {
                        budget = 2.steps
                        updatesPerBatch = 3
                        promptsPerStep = 2
                        groupSize = 4
                        maxNewTokens = maxNew
                    }
                }
            }

        test(
            "pretrain -> sft -> grpo plans: sft in its own steps, grpo in optimizer steps (budget × μ)"
        ) {
            val plan = Planner().compile(spec(bytes = true))
            plan.stages.map { it.kind } shouldBe listOf("pretrain", "sft", "grpo")
            plan.stages.single { it.kind == "sft" }.steps shouldBe 50L
            val grpo = plan.stages.single { it.kind == "grpo" }
            grpo.steps shouldBe 6L
            grpo.batchSize shouldBe 8
        }

        test(
            "a grpo stage names a tokenizer without chat tags and a generation longer than the context at their paths"
        ) {
            val noTags =
                shouldThrow<InvalidSpecException> { Planner().compile(spec(bytes = false)) }
                    .message!!
            noTags shouldContain
                "pipeline.grpo.prompts: the tokenizer has no single token for the chat tag"
            val tooLong =
                shouldThrow<InvalidSpecException> {
                        Planner().compile(spec(bytes = true, maxNew = 250))
                    }
                    .message!!
            tooLong shouldContain "pipeline.grpo.maxNewTokens: a prompt of up to"
        }
    })
