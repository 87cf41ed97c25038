package looplab.models.compiled

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import looplab.dsl.Precision
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.Models
import looplab.models.Pass
import looplab.models.TestBatch
import looplab.models.Tolerance
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.gradients
import looplab.models.perturbZeros
import looplab.models.testBackend
import looplab.models.zoo

/**
 * TRM cycles, the carries between passes and confidence conditioning through the compiled backend,
 * with their zero-initialised projections given values first (at zero the paths would be off): loss
 * and gradients equal eager in fp32.
 */
class CompiledNewPartsSpec :
    FunSpec({
        val vocab = 23
        val batch = TestBatch.random(vocab, batch = 2, length = 12, seed = 7)
        val eager = EagerExecutor(testBackend)
        val fp32 = CompiledExecutor(testBackend, Precision.Fp32)
        val parts =
            zoo.filterKeys {
                it.startsWith("TRM") ||
                    "carr" in it ||
                    it.startsWith("confidence") ||
                    it == "preset CrtV2" ||
                    it == "preset Golf3x3"
            }

        fun pass(
            executor: Executor,
            model: LanguageModel,
            store: ParameterStore,
        ): Pair<Float, Map<String, FloatArray>> {
            store.zeroGradients()
            val loss =
                executor.run(store, train = true) { ops, params ->
                    listOf(
                        model
                            .loss(
                                ops,
                                params,
                                ops.tokens(batch.inputs, 2, 12),
                                ops.tokens(batch.targets, 2, 12),
                                ops.floats(batch.mask, listOf(2, 12)),
                                Pass(training = true, step = 2, seed = 1),
                            )
                            .loss
                    )
                }
            return loss[0].single() to store.gradients()
        }

        context(
            "fp32: compiled loss and gradients equal eager within 1e-5 (relative L2 with a floor, see Tolerance)"
        ) {
            withData(parts) { spec ->
                val model = Models.build(spec, vocab)
                ParameterStore(model.parameters, testBackend, seed = 3).use { store ->
                    store.perturbZeros()
                    val (eagerLoss, eagerGrads) = pass(eager, model, store)
                    val (compiledLoss, compiledGrads) = pass(fp32, model, store)
                    (kotlin.math.abs(compiledLoss - eagerLoss) <=
                        Tolerance.FP32 * kotlin.math.abs(eagerLoss) + 1e-6) shouldBe true
                    Tolerance.mismatches(compiledGrads, eagerGrads, Tolerance.FP32) shouldBe
                        emptyList()
                }
            }
        }
    })
