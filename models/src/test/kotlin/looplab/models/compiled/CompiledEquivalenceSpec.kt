package looplab.models.compiled

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.math.abs
import looplab.dsl.Precision
import looplab.models.Models
import looplab.models.TestBatch
import looplab.models.Tolerance
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.gradients
import looplab.models.testBackend
import looplab.models.tinySpec

class CompiledEquivalenceSpec :
    FunSpec({
        val vocab = 31
        val batch = TestBatch.random(vocab, batch = 3, length = 10)

        /** Loss and every gradient of one training pass. */
        fun pass(
            executor: looplab.models.Executor,
            store: ParameterStore,
            model: looplab.models.LanguageModel,
        ): Pair<Double, Map<String, FloatArray>> {
            store.zeroGradients()
            val loss =
                executor
                    .run(store, train = true) { ops, params ->
                        listOf(
                            model
                                .loss(
                                    ops,
                                    params,
                                    ops.tokens(batch.inputs, 3, 10),
                                    ops.tokens(batch.targets, 3, 10),
                                    ops.floats(batch.mask, listOf(3, 10)),
                                )
                                .loss
                        )
                    }
                    .single()
                    .single()
                    .toDouble()
            return loss to store.gradients()
        }

        // Whole tensors in relative L2 with a floor sized to the model's gradients: see Tolerance.
        context(
            "fp32: the compiled loss and every gradient equal eager within 1e-5 (relative L2, floor)"
        ) {
            withData(
                nameFn = { "${it.recursive.blocks} blocks x ${it.recursive.loops} loops" },
                tinySpec(blocks = 2, loops = 1),
                tinySpec(blocks = 1, loops = 3),
            ) { spec ->
                val model = Models.build(spec, vocab)
                val store = ParameterStore(model.parameters, testBackend, seed = 9)
                val (eagerLoss, eagerGrads) = pass(EagerExecutor(testBackend), store, model)
                val (compiledLoss, compiledGrads) =
                    pass(CompiledExecutor(testBackend, Precision.Fp32), store, model)
                (abs(compiledLoss - eagerLoss) / abs(eagerLoss)) shouldBeLessThan 1e-5
                compiledGrads.keys shouldBe eagerGrads.keys
                Tolerance.mismatches(compiledGrads, eagerGrads, Tolerance.FP32) shouldBe emptyList()
            }
        }

        test("bf16-mixed stays within 2% of fp32 in loss and gradients") {
            val model = Models.build(tinySpec(blocks = 1, loops = 2), vocab)
            val store = ParameterStore(model.parameters, testBackend, seed = 9)
            val (eagerLoss, eagerGrads) = pass(EagerExecutor(testBackend), store, model)
            val (lowLoss, lowGrads) =
                pass(CompiledExecutor(testBackend, Precision.Bf16Mixed), store, model)
            (abs(lowLoss - eagerLoss) / abs(eagerLoss)) shouldBeLessThan 2e-2
            Tolerance.mismatches(lowGrads, eagerGrads, rtol = 5e-2) shouldBe emptyList()
        }

        test("bf16-mixed casts matrix products and attention, and keeps norms and loss in fp32") {
            val model = Models.build(tinySpec(blocks = 1, loops = 1), vocab)
            val store = ParameterStore(model.parameters, testBackend, seed = 9)
            val source =
                CompiledExecutor(testBackend, Precision.Bf16Mixed).source(store) { ops, params ->
                    listOf(
                        model
                            .loss(
                                ops,
                                params,
                                ops.tokens(batch.inputs, 3, 10),
                                ops.tokens(batch.targets, 3, 10),
                                ops.floats(batch.mask, listOf(3, 10)),
                            )
                            .loss
                    )
                }
            source shouldContain "torch.scaled_dot_product_attention"
            source shouldContain ", 15)" // casts to bf16
            // The loss is one head-and-loss op, its logsumexp over fp32 logits (see HeadLoss).
            source shouldContain "torch.logsumexp"
            println(source)
        }
    })

class CompiledChecksSpec :
    FunSpec({
        test("the compiled programs pass the causality and padding checks, in fp32 and bf16") {
            val model = Models.build(tinySpec(blocks = 1, loops = 3), 29)
            val store = ParameterStore(model.parameters, testBackend, seed = 2)
            for (precision in listOf(Precision.Fp32, Precision.Bf16Mixed)) {
                val executor = CompiledExecutor(testBackend, precision)
                val tolerance = if (precision == Precision.Fp32) 1e-5 else 1e-2
                looplab.models.checks.ModelChecks.causality(model, store, executor, length = 12)
                    .passed shouldBe true
                looplab.models.checks.ModelChecks.paddingInvariance(
                        model,
                        store,
                        executor,
                        length = 9,
                        padding = 5,
                        tolerance = tolerance,
                    )
                    .passed shouldBe true
            }
        }
    })
