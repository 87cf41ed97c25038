package looplab.models

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.random.Random
import looplab.dsl.AdapterTarget
import looplab.dsl.HraSpec
import looplab.dsl.Precision
import looplab.models.adapters.HraModel
import looplab.models.compiled.CompiledExecutor
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore

class HraModelSpec :
    FunSpec({
        val vocab = 29
        val base = Models.build(tinySpec(blocks = 1, loops = 2), vocab)
        val baseStore = ParameterStore(base.parameters, testBackend, seed = 6)
        val adapted = HraModel(base, HraSpec(rank = 4))
        val store = ParameterStore(adapted.parameters, testBackend, seed = 7)
        store.load(store.snapshot() + baseStore.snapshot()) // the base's weights, fresh adapters
        val batch = TestBatch.random(vocab, batch = 2, length = 10)

        fun logits(
            model: LanguageModel,
            s: ParameterStore,
            executor: Executor = EagerExecutor(testBackend),
        ): FloatArray =
            executor
                .run(s, train = false) { ops, params ->
                    listOf(model.logits(ops, params, ops.tokens(batch.inputs, 2, 10)))
                }
                .single()

        test("adapters wrap every targeted matrix: A random, B zero") {
            // 1 block: wq wk wv wo gate up down.
            adapted.pairs.map { it.weight.name.substringAfterLast("0.") } shouldBe
                listOf("attn.wq", "attn.wk", "attn.wv", "attn.wo", "mlp.gate", "mlp.up", "mlp.down")
            val values = store.snapshot()
            adapted.pairs.forEach { pair ->
                values.getValue(pair.b.name).all { it == 0f } shouldBe true
                Tolerance.l2(values.getValue(pair.a.name)) shouldBeGreaterThan 0.0
            }
        }

        test(
            "the adapted model is the identity at initialisation: its logits are the base's, exactly"
        ) {
            logits(adapted, store) shouldBe logits(base, baseStore)
        }

        test("at initialisation B learns and A does not (its gradient passes through B = 0)") {
            store.zeroGradients()
            backward(adapted, store, batch)
            val grads = store.gradients()
            adapted.pairs.forEach { pair ->
                grads.getValue(pair.a.name).all { it == 0f } shouldBe true
                Tolerance.l2(grads.getValue(pair.b.name)) shouldBeGreaterThan 0.0
            }
        }

        test(
            "merged into the weights, the base model gives the adapted model's logits (eager and compiled)"
        ) {
            val trained = store.snapshot().toMutableMap()
            val r = Random(1)
            adapted.pairs.forEach { pair ->
                trained[pair.b.name] =
                    FloatArray(trained.getValue(pair.b.name).size) {
                        (r.nextGaussian() * 0.05).toFloat()
                    }
            }
            val trainedStore =
                ParameterStore(adapted.parameters, testBackend, seed = 7).also { it.load(trained) }
            val mergedStore =
                ParameterStore(base.parameters, testBackend, seed = 6).also {
                    it.load(adapted.merge(trained))
                }
            val reference = logits(adapted, trainedStore)
            // The adapters moved the model, so equality below is not the identity again.
            Tolerance.close(reference, logits(base, baseStore), 1e-3, 0.0) shouldBe false
            val merged = logits(base, mergedStore)
            Tolerance.close(
                merged,
                reference,
                Tolerance.FP32,
                Tolerance.FP32 * Tolerance.rms(listOf(reference)),
            ) shouldBe true
            val compiled =
                logits(adapted, trainedStore, CompiledExecutor(testBackend, Precision.Fp32))
            Tolerance.close(
                compiled,
                reference,
                Tolerance.FP32,
                Tolerance.FP32 * Tolerance.rms(listOf(reference)),
            ) shouldBe true
        }

        test("a target the model lacks is refused by name") {
            val lowRank =
                Models.build(
                    tinyModel { recursive(blocks = 1, loops = 1) { lowRankKeys(4) } },
                    vocab,
                )
            shouldThrow<IllegalArgumentException> {
                    HraModel(lowRank, HraSpec(rank = 2, targets = listOf(AdapterTarget.Key)))
                }
                .message shouldContain "no attn.wk weights"
        }
    })

private fun Random.nextGaussian(): Double = java.util.Random(nextLong()).nextGaussian()
