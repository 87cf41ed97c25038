package looplab.models

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.math.sqrt
import kotlin.random.Random
import looplab.dsl.ModelSpec
import looplab.models.eager.ParameterStore
import looplab.models.eager.array

private const val VOCAB = 19

/** ‖a − b‖ / max(‖b‖, 1e-6): a whole-tensor comparison that holds across CPUs' summation orders. */
private fun relativeL2(a: FloatArray, b: FloatArray): Double {
    var diff = 0.0
    var norm = 0.0
    for (i in a.indices) {
        diff += (a[i] - b[i]).toDouble().let { it * it }
        norm += b[i].toDouble() * b[i]
    }
    return sqrt(diff) / maxOf(sqrt(norm), 1e-6)
}

private class Readout(
    val perLoop: List<FloatArray>,
    val logits: FloatArray,
    val atDepth: List<FloatArray>,
)

private fun readout(spec: ModelSpec, loops: Int): Readout {
    val model = Models.build(spec, VOCAB)
    val looped = model as LoopedModel
    val store = ParameterStore(model.parameters, testBackend, seed = 5)
    val ids = Random(3).let { r -> IntArray(2 * 9) { r.nextInt(VOCAB) } }
    return testBackend.scoped(store.values) { ops, _ ->
        val tokens = ops.tokens(ids, 2, 9)
        Readout(
            looped.loopLogits(ops, store, tokens, loops).map { it.array.toFloatArray() },
            model.logits(ops, store, tokens).array.toFloatArray(),
            (1..loops).map { looped.logitsAtDepth(ops, store, tokens, it).array.toFloatArray() },
        )
    }
}

class LoopReadoutSpec :
    FunSpec({
        val variants =
            mapOf(
                "plain loop" to tinyModel { recursive(blocks = 1, loops = 3) },
                "injection and inter-loop norm" to
                    tinyModel {
                        recursive(blocks = 2, loops = 3) {
                            inject()
                            interLoopNorm()
                        }
                    },
                "prelude and coda" to
                    tinyModel {
                        prelude = 1
                        coda = 1
                        recursive(blocks = 1, loops = 3)
                    },
                "adaptive computation" to
                    tinyModel {
                        recursive(blocks = 1, loops = 3) { interLoopNorm() }
                        act()
                    },
            )
        for ((name, spec) in variants) {
            test(
                "$name: the readout after the last loop is the model's logits, and after loop k the logits of a k-loop pass"
            ) {
                val r = readout(spec, spec.recursive.loops)
                r.perLoop.size shouldBe spec.recursive.loops
                relativeL2(r.perLoop.last(), r.logits) shouldBeLessThan 1e-6
                for (k in r.perLoop.indices) relativeL2(r.perLoop[k], r.atDepth[k]) shouldBeLessThan
                    1e-6
                // Earlier loops really are different readouts (so the checks above can fail).
                relativeL2(r.perLoop.first(), r.logits) shouldBeGreaterThan 1e-3
            }
        }

        test(
            "a model without per-loop parameters runs four times its trained loops; one with adapters says why it cannot"
        ) {
            val r = readout(tinyModel { recursive(blocks = 1, loops = 2) }, 8)
            r.perLoop.size shouldBe 8
            relativeL2(r.perLoop[1], r.logits) shouldBeLessThan 1e-6
            relativeL2(r.perLoop[7], r.logits) shouldBeGreaterThan 1e-3
            val adapted =
                Models.build(
                    tinyModel { recursive(blocks = 1, loops = 2) { adapters(rank = 2) } },
                    VOCAB,
                ) as LoopedModel
            adapted.extrapolationBlocker!! shouldContain "adapters"
            val store = ParameterStore((adapted as LanguageModel).parameters, testBackend, seed = 1)
            shouldThrow<IllegalArgumentException> {
                    testBackend.scoped(store.values) { ops, _ ->
                        adapted.logitsAtDepth(ops, store, ops.tokens(IntArray(4), 1, 4), 3)
                    }
                }
                .message!! shouldContain "cannot run 3 loops"
        }
    })
