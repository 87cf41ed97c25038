package looplab.dsl

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain

class ValidationSpec :
    FunSpec({
        fun valid() =
            experiment("ok") {
                data { algorithmic(Task.Parity, Task.Copy) }
                model("baseline") {
                    width = 64
                    heads = 4
                    layers = 2
                    contextLength = 32
                }
                pipeline {
                    val base = pretrain { budget = 100.steps }
                    eval(base)
                }
            }

        test("a well-formed experiment has no errors") { valid().validate().shouldBeEmpty() }

        test("every error is reported with its path, not just the first") {
            val spec =
                experiment("bad name!") {
                    data {
                        algorithmic {
                            task(Task.Parity, weight = 0.0, train = 5..2)
                            task(Task.Parity)
                        }
                    }
                    model("shared_loop") {
                        width = 30
                        heads = 4
                        recursive(blocks = 1, loops = 0)
                    }
                    model("shared_loop") {
                        width = 64
                        heads = 4
                    }
                    pipeline {
                        pretrain {
                            budget = 0.steps
                            batchSize = 0
                            lr = cosine(peak = -1.0)
                        }
                    }
                }
            val messages = spec.validate().map { it.toString() }
            messages shouldContainAll
                listOf(
                    "model[shared_loop].recursive.loops: must be ≥ 1, was 0",
                    "model[shared_loop].heads: must divide width 30, was 4",
                    "model[shared_loop]: two models are named \"shared_loop\"; variant names must be unique",
                    "data.algorithmic.tasks[0].weight: must be > 0, was 0.0",
                    "data.algorithmic.tasks[0].train: is empty: max 2 < min 5",
                    "data.algorithmic.tasks: task \"parity\" appears twice; merge its weights",
                    "pipeline.pretrain.budget.steps: must be ≥ 1, was 0",
                    "pipeline.pretrain.batchSize: must be ≥ 1, was 0",
                    "pipeline.pretrain.lr.peak: must be > 0, was -1.0",
                )
            messages.any { it.startsWith("name:") } shouldBe true
        }

        test("an eval must refer to an earlier training stage") {
            val spec =
                valid().let {
                    it.copy(
                        pipeline =
                            PipelineSpec(
                                listOf(EvalSpec("eval", from = "nowhere")) + it.pipeline.stages
                            )
                    )
                }
            val errors = spec.validate()
            errors.map { it.path } shouldContainAll listOf("pipeline.eval.from", "pipeline.eval")
            errors.first { it.path == "pipeline.eval.from" }.message shouldContain
                "not an earlier training stage"
        }

        test("requireValid throws with every error in the message") {
            val spec =
                valid()
                    .copy(
                        models =
                            listOf(valid().models[0].copy(heads = 0, recursive = Recursion(0, 0)))
                    )
            val e = shouldThrow<InvalidSpecException> { spec.requireValid() }
            e.errors.size shouldBe 3
            e.message shouldContain "model[baseline].recursive.blocks: must be ≥ 1, was 0"
        }

        test("a sliding attention window must be positive and needs attention over tokens alone") {
            fun errors(window: Int, memory: Boolean) =
                valid()
                    .let { spec ->
                        spec.copy(
                            models =
                                listOf(
                                    spec.models[0].copy(
                                        attentionWindow = window,
                                        memory = if (memory) MemoryTokens(4) else null,
                                    )
                                )
                        )
                    }
                    .validate()
                    .map { it.toString() }
            errors(2, memory = false).shouldBeEmpty()
            errors(0, memory = false) shouldBe
                listOf("model[baseline].attentionWindow: must be ≥ 1, was 0")
            errors(2, memory = true) shouldBe
                listOf(
                    "model[baseline].attentionWindow: cannot be set: the model has memory tokens, which would fall out of the window"
                )
        }

        test("stage ids are made unique, so two pretrain stages can coexist") {
            val spec =
                experiment("x") {
                    pipeline {
                        val a = pretrain { budget = 10.steps }
                        val b = pretrain { budget = 10.steps }
                        eval(a)
                        eval(b)
                    }
                }
            spec.pipeline.stages.map { it.id } shouldBe
                listOf("pretrain", "pretrain-2", "eval", "eval-2")
            (spec.pipeline.stages[3] as EvalSpec).from shouldBe "pretrain-2"
        }
    })

class ComputeValidationSpec :
    FunSpec({
        test("mixed precision needs the compiled backend") {
            val base =
                experiment("p") {
                    data { algorithmic(Task.Parity) }
                    model("m") {
                        width = 32
                        heads = 2
                        layers = 1
                        contextLength = 32
                    }
                    pipeline { pretrain { budget = 10.steps } }
                }
            base.copy(precision = Precision.Bf16Mixed).validate().map { it.path } shouldBe
                listOf("precision")
            base
                .copy(precision = Precision.Bf16Mixed, backend = Backend.Compiled)
                .validate() shouldBe emptyList()
        }
    })
