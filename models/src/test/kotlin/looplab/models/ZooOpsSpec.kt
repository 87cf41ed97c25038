package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.exp
import kotlin.math.ln
import kotlin.random.Random
import looplab.models.eager.array
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/** The ops the model zoo added to [Ops], against host arithmetic: what any backend must compute. */
class ZooOpsSpec :
    FunSpec({
        fun eval(block: Ops.() -> Tensor): FloatArray =
            testBackend.scoped() { ops, _ -> ops.block().array.toFloatArray() }
        fun close(expected: FloatArray, actual: FloatArray) {
            actual.size shouldBe expected.size
            expected.indices.maxOf { abs(expected[it] - actual[it]).toDouble() } shouldBeLessThan
                1e-5
        }
        val r = Random(3)
        val x = FloatArray(2 * 5 * 3) { r.nextFloat() * 4 - 2 } // [B=2, T=5, C=3]

        test(
            "causalConv1d: output t mixes t, t - d, t - 2d, … with the taps in order, zero before the start"
        ) {
            val w = FloatArray(3 * 3) { r.nextFloat() - 0.5f } // [C=3, K=3]
            for (dilation in listOf(1, 2)) {
                val expected =
                    FloatArray(x.size) { i ->
                        val (b, t, c) = Triple(i / 15, i / 3 % 5, i % 3)
                        (0 until 3)
                            .sumOf { k ->
                                val s = t - (2 - k) * dilation
                                if (s < 0) 0.0
                                else (w[c * 3 + k] * x[(b * 5 + s) * 3 + c]).toDouble()
                            }
                            .toFloat()
                    }
                close(
                    expected,
                    eval {
                        causalConv1d(floats(x, listOf(2, 5, 3)), floats(w, listOf(3, 3)), dilation)
                    },
                )
            }
        }

        test("cumsum, sum, logSumExp, softplus, exp, sqrt, divide along an axis") {
            val t = listOf(2, 5, 3)
            close(
                FloatArray(x.size) { i ->
                    (0..i / 3 % 5)
                        .sumOf { s -> x[(i / 15 * 5 + s) * 3 + i % 3].toDouble() }
                        .toFloat()
                },
                eval { cumsum(floats(x, t), 1) },
            )
            close(
                FloatArray(10) { i -> (0 until 3).sumOf { x[i * 3 + it].toDouble() }.toFloat() },
                eval { sum(floats(x, t), -1) },
            )
            close(
                FloatArray(10) { i ->
                    ln((0 until 3).sumOf { exp(x[i * 3 + it].toDouble()) }).toFloat()
                },
                eval { logSumExp(floats(x, t), -1) },
            )
            close(
                FloatArray(x.size) { ln(1 + exp(x[it].toDouble())).toFloat() },
                eval { softplus(floats(x, t)) },
            )
            close(
                FloatArray(x.size) { exp(x[it].toDouble()).toFloat() },
                eval { exp(floats(x, t)) },
            )
            close(
                FloatArray(x.size) { kotlin.math.sqrt(abs(x[it])) },
                eval { sqrt(floats(FloatArray(x.size) { abs(x[it]) }, t)) },
            )
            close(
                FloatArray(x.size) { x[it] / 2f },
                eval { floats(x, t) / floats(floatArrayOf(2f), emptyList()) },
            )
        }

        test(
            "topkMask marks the k largest of each row; greaterEqual compares; broadcastTo repeats size-1 axes"
        ) {
            val rows = floatArrayOf(0.1f, 0.9f, 0.5f, 0.3f, /* */ 4f, -1f, 2f, 3f)
            close(
                floatArrayOf(0f, 1f, 1f, 0f, 1f, 0f, 0f, 1f),
                eval { topkMask(floats(rows, listOf(2, 4)), 2) },
            )
            close(
                floatArrayOf(0f, 1f, 1f, 0f, 1f, 0f, 1f, 1f),
                eval {
                    greaterEqual(floats(rows, listOf(2, 4)), floats(floatArrayOf(0.5f), listOf(1)))
                },
            )
            close(
                floatArrayOf(1f, 2f, 1f, 2f, 1f, 2f),
                eval { broadcastTo(floats(floatArrayOf(1f, 2f), listOf(1, 2)), listOf(3, 2)) },
            )
        }
        test("argmax picks the largest entry along an axis, the first one on ties") {
            val rows =
                floatArrayOf(
                    0.1f,
                    0.9f,
                    0.9f,
                    0.3f, /* */
                    4f,
                    -1f,
                    4f,
                    3f, /* */
                    -2f,
                    -1f,
                    -3f,
                    -1f,
                )
            close(floatArrayOf(1f, 0f, 1f), eval { argmax(floats(rows, listOf(3, 4)), 1) })
            close(floatArrayOf(1f, 0f, 1f, 1f), eval { argmax(floats(rows, listOf(3, 4)), 0) })
        }
        test("sampleInOrder draws, from the same uniform, the token the host's Sampler draws") {
            val vocab = 5000
            val rows = 64
            val logits = FloatArray(rows * vocab) { r.nextFloat() * 8 - 4 }
            for (temperature in listOf(0.5, 1.0, 2.0)) {
                val config =
                    looplab.models.decode.SamplingConfig(1, temperature = temperature, seed = 5)
                fun sampler(row: Int) = looplab.models.decode.Sampler(config, row)
                val host = List(rows) { sampler(it).next(logits, it * vocab, vocab, emptyList()) }
                val uniforms = FloatArray(rows) { sampler(it).uniform() }
                val device = eval {
                    sampleInOrder(
                        floats(logits, listOf(rows, 1, vocab)),
                        floats(uniforms, listOf(rows, 1)),
                        temperature,
                    )
                }
                device.map { it.toInt() } shouldBe host
                (host.toSet().size > rows / 2) shouldBe true // draws, not one repeated token
            }
        }
        test("writeSlot writes each row's new entry at its own slot and keeps the others") {
            val cache = FloatArray(2 * 1 * 3 * 2) { it.toFloat() } // [B=2, H=1, C=3, D=2]
            val fresh = floatArrayOf(-1f, -2f, /* */ -3f, -4f) // [2, 1, 1, 2]
            close(
                floatArrayOf(0f, 1f, 2f, 3f, -1f, -2f, /* */ -3f, -4f, 8f, 9f, 10f, 11f),
                eval {
                    writeSlot(
                        floats(cache, listOf(2, 1, 3, 2)),
                        floats(fresh, listOf(2, 1, 1, 2)),
                        tokens(intArrayOf(2, 0), 2, 1),
                    )
                },
            )
        }
    })
