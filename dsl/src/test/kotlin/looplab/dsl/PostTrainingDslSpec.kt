package looplab.dsl

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain

class PostTrainingDslSpec :
    FunSpec({
        fun experimentWith(
            model: ModelBuilder.() -> Unit = {},
            stages: PipelineBuilder.() -> Unit,
        ) =
            experiment("post") {
                data { algorithmic(Task.Parity) }
                model("m") {
                    width = 64
                    heads = 4
                    layers = 2
                    contextLength = 64
                    model()
                }
                pipeline(stages)
            }

        val osrt = experimentWith {
            val base = pretrain { budget = 100.steps }
            val tuned =
                sft(from = base) {
                    budget = 50.steps
                    data {
                        wordProblems(weight = 2.0)
                        taskQuestions(listOf(Task.Addition))
                        jsonl("chat.jsonl")
                        generator("mine")
                    }
                    adapters(
                        rank = 8,
                        targets = listOf(AdapterTarget.Query, AdapterTarget.Value),
                        lrMultiplier = 5.0,
                        freezeBase = true,
                    )
                }
            val rl =
                grpo(from = tuned) {
                    budget = 20.steps
                    groupSize = 16
                    beta = 0.04
                    scaleByStd = false
                    aggregation = LossAggregation.Sequence
                    adaptersOnly = true
                    reward(format = 0.2, maxTokens = 96)
                }
            eval(rl)
        }

        test("sft and grpo refer to earlier stages by typed reference and record it") {
            val stages = osrt.pipeline.stages
            stages.map { it.id } shouldBe listOf("pretrain", "sft", "grpo", "eval")
            val sft = stages[1] as SftSpec
            sft.from shouldBe "pretrain"
            sft.adapters shouldBe
                HraSpec(
                    rank = 8,
                    targets = listOf(AdapterTarget.Query, AdapterTarget.Value),
                    lrMultiplier = 5.0,
                    freezeBase = true,
                )
            sft.data.sources shouldBe
                listOf(
                    WordProblems(2.0),
                    TaskQuestions(listOf(Task.Addition)),
                    ChatJsonl("chat.jsonl"),
                    CustomChat("mine"),
                )
            val grpo = stages[2] as GrpoSpec
            grpo.from shouldBe "sft"
            grpo.reward shouldBe RewardSpec(correct = 1.0, format = 0.2, maxTokens = 96)
            (stages[3] as EvalSpec).from shouldBe "grpo"
            osrt.validate().shouldBeEmpty()
        }

        test("post-training stages survive a JSON round trip, with readable type tags") {
            val text = SpecJson.encode(osrt)
            SpecJson.decode(text) shouldBe osrt
            text shouldContain "\"type\": \"sft\""
            text shouldContain "\"type\": \"grpo\""
            text shouldContain "\"type\": \"word_problems\""
        }

        test("a JSON stage whose from names no earlier training stage is an error at its path") {
            val text = SpecJson.encode(osrt).replace("\"from\": \"sft\"", "\"from\": \"eval\"")
            SpecJson.decode(text).validate().map { it.toString() } shouldContain
                "pipeline.grpo.from: refers to \"eval\", which is not an earlier training stage (earlier: pretrain, sft)"
        }

        test("every bad field of a post-training stage is reported with its path") {
            val spec = experimentWith {
                val base = pretrain { budget = 10.steps }
                val tuned =
                    sft(from = base) {
                        budget = 0.steps
                        data { wordProblems(weight = 0.0) }
                        adapters(rank = 0, initStd = 0.0, lrMultiplier = -1.0)
                    }
                grpo(from = tuned) {
                    budget = 5.steps
                    groupSize = 1
                    epsilon = 1.5
                    beta = -0.1
                    reward(correct = 0.0)
                }
            }
            val errors = spec.validate().map { it.toString() }
            errors shouldContain "pipeline.sft.budget.steps: must be ≥ 1, was 0"
            errors shouldContain "pipeline.sft.data.sources[0].weight: must be > 0, was 0.0"
            errors shouldContain "pipeline.sft.adapters.rank: must be ≥ 1, was 0"
            errors shouldContain
                "pipeline.sft.adapters.initStd: must be > 0 (A starts random, B at zero), was 0.0"
            errors shouldContain "pipeline.sft.adapters.lrMultiplier: must be > 0, was -1.0"
            errors shouldContain "pipeline.grpo.groupSize: must be ≥ 2, was 1"
            errors shouldContain "pipeline.grpo.epsilon: must be within (0, 1), was 1.5"
            errors shouldContain "pipeline.grpo.beta: must be ≥ 0, was -0.1"
            errors shouldContain
                "pipeline.grpo.reward.correct: must be > 0 (it is what the stage optimises), was 0.0"
        }

        test(
            "adapters must fit every model: the rank within the narrowest matrix, the target present"
        ) {
            val spec =
                experimentWith({
                    kvHeads = 1
                    recursive(blocks = 2, loops = 1) { lowRankKeys(8) }
                }) {
                    val base = pretrain { budget = 10.steps }
                    sft(from = base) {
                        budget = 5.steps
                        adapters(
                            rank = 20,
                            targets = listOf(AdapterTarget.Key, AdapterTarget.Value),
                        )
                    }
                }
            val errors = spec.validate().map { it.toString() }
            errors shouldContain
                "pipeline.sft.adapters.targets: model[m] has no Key matrix (its keys are low-rank)"
            errors shouldContain
                "pipeline.sft.adapters.rank: must be ≤ 16 for model[m] (its attn.wv is 64×16), was 20"
        }

        test(
            "packing is refused for models that mix positions other than by attention, and allowed without packing"
        ) {
            fun sftOn(packed: Boolean) =
                experimentWith({ recursive(blocks = 2, loops = 1) { conv(kernel = 3) } }) {
                    val base = pretrain { budget = 10.steps }
                    sft(from = base) {
                        budget = 5.steps
                        packing = packed
                    }
                }
            sftOn(true).validate().map { it.toString() } shouldContain
                "pipeline.sft.packing: model[m] has a convolution in its FFN, which reads across conversation boundaries, so packed conversations would not be independent; use packing = false"
            sftOn(false).validate().shouldBeEmpty()
        }

        test(
            "training only adapters needs an sft stage with adapters on the way back from the source"
        ) {
            val spec = experimentWith {
                val base = pretrain { budget = 10.steps }
                val tuned = sft(from = base) { budget = 5.steps }
                grpo(from = tuned) {
                    budget = 5.steps
                    adaptersOnly = true
                }
            }
            spec.validate().map { it.toString() } shouldContain
                "pipeline.grpo.adaptersOnly: no stage before it (from \"sft\" back) adds adapters: add adapters(rank = ...) to an sft stage"
        }
    })
