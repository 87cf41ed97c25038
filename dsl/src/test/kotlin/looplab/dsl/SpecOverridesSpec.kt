package looplab.dsl

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain

class SpecOverridesSpec :
    FunSpec({
        val spec =
            experiment("ok") {
                data { algorithmic(Task.Parity, Task.Copy) }
                model("baseline") {
                    width = 64
                    heads = 4
                    layers = 2
                    contextLength = 32
                }
                model("loop") {
                    width = 64
                    heads = 4
                    recursive(blocks = 1, loops = 2)
                    contextLength = 32
                }
                pipeline {
                    val base = pretrain {
                        budget = 100.steps
                        lr = cosine(1e-3)
                    }
                    eval(base)
                }
            }

        test("valid overrides change exactly the named fields, by their validation paths") {
            val changed =
                SpecOverrides.apply(
                    spec,
                    listOf(
                        "pipeline.pretrain.budget=300.steps",
                        "model[baseline].width=128",
                        "model[loop].recursive.loops=3",
                        "seed=7",
                        "pipeline.pretrain.lr.peak=3e-4",
                        "pipeline.pretrain.evalEvery=50.steps",
                        "pipeline.eval.algorithmic.samples=10",
                        "pipeline.pretrain.checkpoint.minutes=null",
                    ),
                )
            val stage = changed.pipeline.stages[0] as PretrainSpec
            stage.budget shouldBe Steps(300)
            stage.lr.peak shouldBe 3e-4
            stage.evalEvery shouldBe Steps(50)
            stage.checkpoint.minutes shouldBe null
            changed.models[0].width shouldBe 128
            changed.models[1].width shouldBe 64
            changed.models[1].recursive.loops shouldBe 3
            changed.seed shouldBe 7
            (changed.pipeline.stages[1] as EvalSpec).algorithmic!!.samples shouldBe 10
            SpecOverrides.apply(spec, listOf("pipeline.pretrain.budget=2.M.tokens"))
                .pipeline
                .stages[0]
                .let { (it as PretrainSpec).budget } shouldBe Tokens(2_000_000)
        }

        test(
            "a bare word is a string (an enum's name); numbers, booleans, null and JSON keep their types"
        ) {
            val changed =
                SpecOverrides.apply(
                    spec,
                    listOf(
                        "backend=Compiled",
                        "precision=Bf16Mixed",
                        "device={\"type\": \"gpu\", \"index\": 0}",
                    ),
                )
            changed.backend shouldBe Backend.Compiled
            changed.precision shouldBe Precision.Bf16Mixed
            changed.device shouldBe Gpu(0)
            SpecOverrides.apply(spec, listOf("backend=\"Compiled\"")).backend shouldBe
                Backend.Compiled
            shouldThrow<SpecJsonException> { SpecOverrides.apply(spec, listOf("backend=Jit")) }
                .message shouldContain "Jit"
        }

        test("an invalid path names what does not exist and what does") {
            shouldThrow<SpecOverrideException> {
                    SpecOverrides.apply(spec, listOf("model[nope].width=128"))
                }
                .message shouldBe
                "--set model[nope].width=128: there is no model named \"nope\" (there are: baseline, loop)"
            shouldThrow<SpecOverrideException> {
                    SpecOverrides.apply(spec, listOf("model[baseline].widht=128"))
                }
                .message shouldContain
                "model[baseline] has no field \"widht\" (fields: name, width, heads"
            shouldThrow<SpecOverrideException> {
                    SpecOverrides.apply(spec, listOf("pipeline.train.budget=5.steps"))
                }
                .message shouldContain
                "there is no stage with id \"train\" (there are: pretrain, eval)"
            shouldThrow<SpecOverrideException> { SpecOverrides.apply(spec, listOf("seed")) }
                .message shouldContain "expected path=value"
            shouldThrow<SpecOverrideException> {
                    SpecOverrides.apply(spec, listOf("model[baseline].latent.thoughts=2"))
                }
                .message shouldContain "model[baseline].latent is null"
        }

        test("an invalid value is rejected like the DSL would reject it, with the same path") {
            shouldThrow<SpecJsonException> {
                    SpecOverrides.apply(spec, listOf("model[baseline].width=wide"))
                }
                .message shouldContain "--set model[baseline].width=wide"
            val bad =
                SpecOverrides.apply(
                    spec,
                    listOf("model[loop].recursive.loops=0", "pipeline.pretrain.budget=0.steps"),
                )
            bad.validate().map { it.toString() } shouldContain
                "model[loop].recursive.loops: must be ≥ 1, was 0"
            bad.validate().map { it.toString() } shouldContain
                "pipeline.pretrain.budget.steps: must be ≥ 1, was 0"
        }

        test(
            "a later training stage continues only from a stage it names, and only an earlier one"
        ) {
            val continued =
                experiment("ok") {
                    data { algorithmic(Task.Parity) }
                    model("m") {
                        width = 64
                        heads = 4
                        layers = 2
                        contextLength = 32
                    }
                    pipeline {
                        val base = pretrain { budget = 10.steps }
                        val more = pretrain(from = base) { budget = 10.steps }
                        pretrain { budget = 10.steps }
                        eval(more)
                    }
                }
            continued.pipeline.stages.map { (it as? PretrainSpec)?.from } shouldBe
                listOf(null, "pretrain", null, null)
            continued.validate() shouldBe emptyList()
            SpecOverrides.apply(continued, listOf("pipeline.pretrain.from=\"pretrain-3\""))
                .validate()
                .map { it.toString() } shouldContain
                "pipeline.pretrain.from: refers to \"pretrain-3\", which is not an earlier training stage"
        }

        test("sizes that would overflow the plan's counts are rejected before planning") {
            SpecOverrides.apply(
                    spec,
                    listOf("model[baseline].width=1073741824", "model[baseline].heads=4"),
                )
                .validate()
                .map { it.toString() } shouldContain
                "model[baseline].width: must be ≤ 65536, was 1073741824"
        }
    })
