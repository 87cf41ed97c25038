package looplab.models.compiled

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import kotlin.math.abs
import looplab.dsl.Precision
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.Models
import looplab.models.TestBatch
import looplab.models.Tolerance
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.gradients
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.testBackend
import looplab.models.tinyModel

/**
 * The decoder's training losses (final head, auxiliary heads, per-loop losses) reach the compiled
 * backend as one head-and-loss op each, so its training program never holds [B, T, V]
 * log-probabilities, while eager (which composes linear and cross-entropy) gives the same loss and
 * gradients.
 */
class FusedHeadLossSpec :
    FunSpec({
        val vocab = 29
        val batch = TestBatch.random(vocab, batch = 2, length = 9, seed = 11)
        // Padding: the last three positions of the second row.
        val mask = FloatArray(18) { if (it >= 15) 0f else 1f }
        val specs =
            mapOf(
                "tied head" to tinyModel(),
                "untied head, 2 aux heads, per-loop losses" to
                    tinyModel {
                        tiedEmbeddings = false
                        recursive(blocks = 1, loops = 3) { loopLoss(weight = 0.2) }
                        auxHeads(1, 2, weight = 0.5)
                    },
            )

        fun loss(ops: Ops, params: Params, model: LanguageModel) =
            model
                .loss(
                    ops,
                    params,
                    ops.tokens(batch.inputs, 2, 9),
                    ops.tokens(batch.targets, 2, 9),
                    ops.floats(mask, listOf(2, 9)),
                )
                .loss

        /** Loss and every gradient of one training pass. */
        fun pass(
            executor: Executor,
            store: ParameterStore,
            model: LanguageModel,
        ): Pair<Double, Map<String, FloatArray>> {
            store.zeroGradients()
            val loss =
                executor.run(store, train = true) { ops, params ->
                    listOf(loss(ops, params, model))
                }
            return loss.single().single().toDouble() to store.gradients()
        }

        context("the training program has one fused loss per head and no log-softmax") {
            withData(specs) { spec ->
                val model = Models.build(spec, vocab)
                ParameterStore(model.parameters, testBackend, seed = 4).use { store ->
                    val heads =
                        1 +
                            spec.auxHeads.size +
                            (spec.recursive.loopLoss?.let { spec.recursive.loops - 1 } ?: 0)
                    for (precision in listOf(Precision.Fp32, Precision.Bf16Mixed)) {
                        val source =
                            CompiledExecutor(testBackend, precision).source(store) { ops, params ->
                                listOf(loss(ops, params, model))
                            }
                        source shouldNotContain "log_softmax"
                        Regex("torch\\.logsumexp").findAll(source).count() shouldBe heads
                    }
                }
            }
        }

        context("compiled fp32 equals eager in loss and every gradient, with padding") {
            withData(specs) { spec ->
                val model = Models.build(spec, vocab)
                ParameterStore(model.parameters, testBackend, seed = 4).use { store ->
                    val (eagerLoss, eagerGrads) = pass(EagerExecutor(testBackend), store, model)
                    val (compiledLoss, compiledGrads) =
                        pass(CompiledExecutor(testBackend, Precision.Fp32), store, model)
                    abs(compiledLoss - eagerLoss) / abs(eagerLoss) shouldBeLessThan Tolerance.FP32
                    Tolerance.mismatches(compiledGrads, eagerGrads, Tolerance.FP32) shouldBe
                        emptyList()
                }
            }
        }

        test("the logits program is unchanged: it still ends in the head's matrix product") {
            val model = Models.build(tinyModel(), vocab)
            ParameterStore(model.parameters, testBackend, seed = 4).use { store ->
                val source =
                    CompiledExecutor(testBackend, Precision.Fp32).source(store) { ops, params ->
                        listOf(model.logits(ops, params, ops.tokens(batch.inputs, 2, 9)))
                    }
                source shouldNotContain "logsumexp"
                source shouldContain "torch.matmul"
            }
        }
    })
