package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import kotlin.math.abs

/**
 * A sliding window bounds how far information travels: each loop of a one-layer block moves it at
 * most `window − 1` positions, so the last position of a 3-loop model with window 2 is moved by the
 * token 3 positions back and not by the one 4 back; more loops reach further.
 */
class AttentionWindowSpec :
    FunSpec({
        val vocab = 20
        val tokens = intArrayOf(3, 7, 11, 2, 5, 9, 4, 1)

        fun lastLogits(loops: Int, input: IntArray): FloatArray =
            lastLogits(
                tinyModel {
                    attentionWindow = 2
                    recursive(blocks = 1, loops = loops)
                },
                vocab,
                input,
            )

        /**
         * How much the last position's logits move when the token [back] positions before it
         * changes.
         */
        fun change(loops: Int, back: Int): Double {
            val changed = tokens.copyOf().also { it[it.size - 1 - back] = 17 }
            val a = lastLogits(loops, tokens)
            val b = lastLogits(loops, changed)
            return a.indices.maxOf { abs(a[it] - b[it]).toDouble() }
        }

        test("3 loops of window 2 reach 3 positions back") { change(3, 3) shouldBeGreaterThan 1e-4 }

        test("and not 4") { change(3, 4) shouldBeLessThan 1e-6 }

        test("5 loops reach 4 back (more loops, more reach)") {
            change(5, 4) shouldBeGreaterThan 1e-4
        }
    })
