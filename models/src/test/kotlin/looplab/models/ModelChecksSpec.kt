package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import looplab.models.checks.ModelChecks
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

class ModelChecksSpec :
    FunSpec({
        val variants =
            mapOf(
                "baseline (3 blocks x 1 loop)" to tinySpec(blocks = 3, loops = 1),
                "shared_loop (1 block x 4 loops)" to tinySpec(blocks = 1, loops = 4),
                "recursive (2 blocks x 3 loops)" to tinySpec(blocks = 2, loops = 3),
            )

        context("every variant is causal") {
            withData(variants) { spec ->
                val model = Models.build(spec, vocabSize = 23)
                val store = ParameterStore(model.parameters, testBackend, seed = 5)
                val result =
                    ModelChecks.causality(model, store, EagerExecutor(testBackend), length = 12)
                result.passed shouldBe true
            }
        }

        context("padding never moves the loss") {
            withData(variants) { spec ->
                val model = Models.build(spec, vocabSize = 23)
                val store = ParameterStore(model.parameters, testBackend, seed = 6)
                ModelChecks.paddingInvariance(
                        model,
                        store,
                        EagerExecutor(testBackend),
                        length = 9,
                        padding = 5,
                    )
                    .passed shouldBe true
            }
        }

        test("the causality check catches a model that looks ahead") {
            val honest = Models.build(tinySpec(), vocabSize = 23)
            // Mixes the last position into every position, as a symmetric convolution or an
            // unmasked
            // thought token would: exactly the leak the check exists to catch.
            val leaky =
                object : LanguageModel by honest {
                    override fun logits(
                        ops: Ops,
                        params: Params,
                        tokens: Tensor,
                        pass: Pass,
                    ): Tensor =
                        with(ops) {
                            val logits = honest.logits(ops, params, tokens, pass)
                            val t = logits.shape[1]
                            logits + slice(logits, 1, t - 1, t)
                        }
                }
            val store = ParameterStore(honest.parameters, testBackend, seed = 7)
            val result =
                ModelChecks.causality(leaky, store, EagerExecutor(testBackend), length = 10)
            result.passed shouldBe false
            result.detail shouldContain "sees the future"
        }

        test("the padding check catches a loss that counts padding") {
            val honest = Models.build(tinySpec(), vocabSize = 23)
            val unmasked =
                object : LanguageModel by honest {
                    override fun loss(
                        ops: Ops,
                        params: Params,
                        inputs: Tensor,
                        targets: Tensor,
                        mask: Tensor,
                        pass: Pass,
                    ): ModelOutput {
                        val ones =
                            ops.floats(
                                FloatArray(mask.shape.fold(1) { a, b -> a * b }) { 1f },
                                mask.shape,
                            )
                        return ModelOutput(
                            ops.crossEntropy(honest.logits(ops, params, inputs), targets, ones)
                        )
                    }
                }
            val store = ParameterStore(honest.parameters, testBackend, seed = 8)
            ModelChecks.paddingInvariance(
                    unmasked,
                    store,
                    EagerExecutor(testBackend),
                    length = 9,
                    padding = 5,
                )
                .passed shouldBe false
        }
    })
