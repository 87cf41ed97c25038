package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.max
import looplab.models.eager.ParameterStore

class WeightSharingSpec :
    FunSpec({
        test(
            "a looped block's gradient is the sum of the gradients of unshared copies, one per loop"
        ) {
            val vocab = 29
            val shared = Models.build(tinySpec(blocks = 1, loops = 3), vocab)
            val unshared = Models.build(tinySpec(blocks = 3, loops = 1), vocab)
            val sharedStore = ParameterStore(shared.parameters, testBackend, seed = 11)
            val unsharedStore = ParameterStore(unshared.parameters, testBackend, seed = 99)
            // Give each unshared copy the shared block's weights: the two models now compute the
            // same function.
            val weights = sharedStore.snapshot()
            unsharedStore.load(
                unshared.parameters.all.associate { ref ->
                    ref.name to
                        weights.getValue(ref.name.replace(Regex("^blocks\\.\\d+\\."), "blocks.0."))
                }
            )

            val batch = TestBatch.random(vocab, batch = 2, length = 10)
            val lossShared = backward(shared, sharedStore, batch)
            val lossUnshared = backward(unshared, unsharedStore, batch)
            abs(lossShared - lossUnshared).toDouble() shouldBeLessThan 1e-5

            val g = sharedStore.gradients()
            val u = unsharedStore.gradients()
            shared.parameters.all
                .map { it.name }
                .filter { it.startsWith("blocks.0.") }
                .size shouldBe 9
            for ((name, grad) in g) {
                val copies = (0 until 3).map { "blocks.$it." + name.removePrefix("blocks.0.") }
                val expected =
                    if (name.startsWith("blocks.0.")) {
                        FloatArray(grad.size) { i ->
                            copies.sumOf { u.getValue(it)[i].toDouble() }.toFloat()
                        }
                    } else u.getValue(name)
                val scale = max(1e-3, expected.maxOf { abs(it) }.toDouble())
                val worst = grad.indices.maxOf { abs(grad[it] - expected[it]).toDouble() }
                (worst / scale) shouldBeLessThan 1e-4
            }
            // The copies' gradients differ from each other, so the sum is a real check, not 3× one
            // copy.
            val first = u.getValue("blocks.0.attn.wq")
            val last = u.getValue("blocks.2.attn.wq")
            (first.indices.maxOf { abs(first[it] - last[it]) } > 1e-6f) shouldBe true
        }
    })
