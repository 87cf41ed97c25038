package looplab.models

import kotlin.random.Random
import looplab.dsl.AdamW
import looplab.models.eager.ParameterStore
import looplab.models.eager.array
import looplab.models.optim.AdamWOptimizer

/** A fixed random next-token batch. */
class TestBatch(
    val inputs: IntArray,
    val targets: IntArray,
    val mask: FloatArray,
    val batch: Int,
    val length: Int,
) {
    companion object {
        fun random(vocab: Int, batch: Int, length: Int, seed: Int = 3): TestBatch {
            val r = Random(seed)
            val seq = IntArray(batch * (length + 1)) { r.nextInt(vocab) }
            val inputs =
                IntArray(batch * length) { seq[(it / length) * (length + 1) + it % length] }
            val targets =
                IntArray(batch * length) { seq[(it / length) * (length + 1) + it % length + 1] }
            return TestBatch(inputs, targets, FloatArray(batch * length) { 1f }, batch, length)
        }
    }
}

/** One forward and backward pass; returns the loss and leaves gradients on the store. */
fun backward(model: LanguageModel, store: ParameterStore, b: TestBatch): Float =
    testBackend.gradients().use { collector ->
        testBackend.scoped(store.values) { ops, _ ->
            val out =
                model.loss(
                    ops,
                    store,
                    ops.tokens(b.inputs, b.batch, b.length),
                    ops.tokens(b.targets, b.batch, b.length),
                    ops.floats(b.mask, listOf(b.batch, b.length)),
                )
            collector.backward(out.loss.array)
            out.loss.array.getFloat()
        }
    }

fun ParameterStore.gradients(): Map<String, FloatArray> =
    registry.all.associate { ref -> ref.name to gradient(ref).use { it.toFloatArray() } }

/**
 * Trains [steps] AdamW steps from a fresh store, running the garbage collector between each forward
 * and backward pass, and returns the gradient norms. DJL frees scalar operands that autograd still
 * needs, so a collection right there is where a missing keep-alive shows (see
 * GradientStabilitySpec).
 */
fun trainWithCollectionsBeforeBackward(
    model: LanguageModel,
    vocab: Int,
    batch: Int,
    steps: Int,
    collections: Int,
    pass: (Int) -> Pass,
): List<Float> {
    val store = ParameterStore(model.parameters, testBackend, seed = 3)
    val optimizer = AdamWOptimizer(store, testBackend, AdamW())
    return (0 until steps).map { step ->
        val b = TestBatch.random(vocab, batch = batch, length = 12, seed = step)
        store.zeroGradients()
        testBackend.gradients().use { collector ->
            testBackend.scoped(store.values) { ops, _ ->
                val out =
                    model.loss(
                        ops,
                        store,
                        ops.tokens(b.inputs, b.batch, b.length),
                        ops.tokens(b.targets, b.batch, b.length),
                        ops.floats(b.mask, listOf(b.batch, b.length)),
                        pass(step),
                    )
                repeat(collections) {
                    System.gc()
                    Thread.sleep(20)
                }
                collector.backward(out.loss.array)
            }
        }
        optimizer.step(1e-2, clipNorm = null).toFloat()
    }
}
