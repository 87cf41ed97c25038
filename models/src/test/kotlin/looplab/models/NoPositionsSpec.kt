package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import kotlin.math.abs
import looplab.dsl.NoPositions
import looplab.dsl.Rope
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore

/**
 * Without positions, one attention layer sees its keys as a set: the last position's logits do not
 * change when the tokens before it are reordered. With RoPE they do.
 */
class NoPositionsSpec :
    FunSpec({
        val vocab = 20
        val tokens = intArrayOf(3, 7, 11, 2, 5, 9)
        val reordered = intArrayOf(5, 2, 11, 3, 7, 9) // same tokens before the last, other order

        fun lastLogits(positions: looplab.dsl.Positions, input: IntArray): FloatArray {
            val spec = tinyModel {
                layers = 1
                this.positions = positions
            }
            val model = Models.build(spec, vocab)
            return ParameterStore(model.parameters, testBackend, seed = 3).use { store ->
                EagerExecutor(testBackend)
                    .run(store, train = false) { ops, params ->
                        listOf(model.logits(ops, params, ops.tokens(input, 1, input.size)))
                    }
                    .single()
                    .copyOfRange((input.size - 1) * vocab, input.size * vocab)
            }
        }

        fun change(positions: looplab.dsl.Positions): Double {
            val a = lastLogits(positions, tokens)
            val b = lastLogits(positions, reordered)
            return a.indices.maxOf { abs(a[it] - b[it]).toDouble() }
        }

        test("NoPE: reordering the earlier tokens leaves the last position's logits unchanged") {
            change(NoPositions) shouldBeLessThan 1e-5
        }

        test("RoPE: the same reordering changes them (the check can fail)") {
            change(Rope()) shouldBeGreaterThan 1e-4
        }
    })
