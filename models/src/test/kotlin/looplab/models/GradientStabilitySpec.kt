package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import looplab.dsl.AdamW
import looplab.models.eager.ParameterStore
import looplab.models.eager.array
import looplab.models.optim.AdamWOptimizer

class GradientStabilitySpec : FunSpec({
    // DJL frees the scalar operand of ops like `x.mul(2f)` at once while autograd still holds it;
    // a garbage collection between forward and backward then turns gradients into NaN or garbage.
    // Collecting garbage right there must change nothing.
    test("gradients are finite and identical when the GC runs between forward and backward") {
        val vocab = 19
        val model = Models.build(tinySpec(blocks = 1, loops = 3), vocab)
        fun train(): List<Float> {
            val store = ParameterStore(model.parameters, testBackend, seed = 3)
            val optimizer = AdamWOptimizer(store, testBackend, AdamW())
            return (0 until 6).map { step ->
                val batch = TestBatch.random(vocab, batch = 4, length = 12, seed = step)
                store.zeroGradients()
                testBackend.gradients().use { collector ->
                    testBackend.scoped(store.values) { ops, _ ->
                        val out = model.loss(ops, store, ops.tokens(batch.inputs, 4, 12), ops.tokens(batch.targets, 4, 12), ops.floats(batch.mask, listOf(4, 12)))
                        repeat(3) { System.gc(); Thread.sleep(20) }
                        collector.backward(out.loss.array)
                    }
                }
                optimizer.step(1e-2, clipNorm = null).toFloat()
            }
        }
        val first = train()
        first.all { it.isFinite() } shouldBe true
        train() shouldBe first
    }
})
