package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import kotlin.math.abs
import kotlin.math.exp
import kotlin.random.Random
import looplab.models.eager.array
import looplab.models.parts.ssd

class SsdSpec :
    FunSpec({
        val batch = 2
        val heads = 3
        val size = 4 // P
        val state = 5 // N

        /** h_t = exp(a_t)·h_{t-1} + x_t ⊗ b_t, y_t = h_t·c_t, one step at a time, on the host. */
        fun recurrence(
            x: FloatArray,
            a: FloatArray,
            b: FloatArray,
            c: FloatArray,
            length: Int,
        ): FloatArray {
            val y = FloatArray(batch * length * heads * size)
            for (n in 0 until batch) for (h in 0 until heads) {
                val hidden = Array(size) { DoubleArray(state) }
                for (t in 0 until length) {
                    val decay = exp(a[(n * length + t) * heads + h].toDouble())
                    for (p in 0 until size) for (s in 0 until state) {
                        val xv = x[((n * length + t) * heads + h) * size + p]
                        hidden[p][s] = decay * hidden[p][s] + xv * b[(n * length + t) * state + s]
                    }
                    for (p in 0 until size) {
                        y[((n * length + t) * heads + h) * size + p] =
                            (0 until state)
                                .sumOf { hidden[p][it] * c[(n * length + t) * state + it] }
                                .toFloat()
                    }
                }
            }
            return y
        }

        for ((length, chunk) in listOf(12 to 4, 10 to 4, 7 to 16, 9 to 1)) {
            test(
                "the chunked SSD equals the step-by-step recurrence: length $length, chunk $chunk"
            ) {
                val r = Random(length * 31 + chunk)
                val x = FloatArray(batch * length * heads * size) { r.nextFloat() * 2 - 1 }
                val a =
                    FloatArray(batch * length * heads) { -r.nextFloat() * 0.7f } // log-decays ≤ 0
                val b = FloatArray(batch * length * state) { r.nextFloat() * 2 - 1 }
                val c = FloatArray(batch * length * state) { r.nextFloat() * 2 - 1 }
                val expected = recurrence(x, a, b, c, length)
                val actual =
                    testBackend.scoped() { ops, _ ->
                        ops.ssd(
                                ops.floats(x, listOf(batch, length, heads, size)),
                                ops.floats(a, listOf(batch, length, heads)),
                                ops.floats(b, listOf(batch, length, state)),
                                ops.floats(c, listOf(batch, length, state)),
                                chunk,
                            )
                            .array
                            .toFloatArray()
                    }
                val worst = expected.indices.maxOf { abs(expected[it] - actual[it]).toDouble() }
                worst shouldBeLessThan 1e-4
            }
        }
    })
