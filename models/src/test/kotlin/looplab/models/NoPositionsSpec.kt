package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import kotlin.math.abs
import looplab.dsl.NoPositions
import looplab.dsl.Rope

/**
 * Without positions, one attention layer sees its keys as a set: the last position's logits do not
 * change when the tokens before it are reordered. With RoPE they do.
 */
class NoPositionsSpec :
    FunSpec({
        val vocab = 20
        val tokens = intArrayOf(3, 7, 11, 2, 5, 9)
        val reordered = intArrayOf(5, 2, 11, 3, 7, 9) // same tokens before the last, other order

        fun lastLogits(positions: looplab.dsl.Positions, input: IntArray): FloatArray =
            lastLogits(
                tinyModel {
                    layers = 1
                    this.positions = positions
                },
                vocab,
                input,
            )

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
