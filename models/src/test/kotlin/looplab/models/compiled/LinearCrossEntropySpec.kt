package looplab.models.compiled

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.exp
import kotlin.math.ln
import kotlin.random.Random
import looplab.dsl.Precision
import looplab.models.Executor
import looplab.models.Tolerance
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.gradients
import looplab.models.params.Init
import looplab.models.params.ParamRegistry
import looplab.models.testBackend

/**
 * `linearCrossEntropy(x, w, t, m)` is `crossEntropy(linear(x, w), t, m)` in value and in the
 * gradients of x and w, on every backend: the compiled one computes it as one op with its own
 * gradient, checked here against a float64 host reference.
 */
class LinearCrossEntropySpec :
    FunSpec({
        val (batch, length, width, vocab) = listOf(2, 5, 6, 11)
        val registry = ParamRegistry()
        val x = registry.scope("").tensor("x", listOf(batch, length, width), Init.Normal(1.0))
        val w = registry.scope("").tensor("w", listOf(width, vocab), Init.Normal(1.0))
        val random = Random(7)
        val xValues =
            FloatArray(batch * length * width) { (random.nextDouble(-1.5, 1.5)).toFloat() }
        val ws = FloatArray(width * vocab) { (random.nextDouble(-1.0, 1.0)).toFloat() }
        val targetIds = IntArray(batch * length) { random.nextInt(vocab) }
        // Padding at the end of row 0 and inside row 1: those positions must count for nothing.
        val maskValues = floatArrayOf(1f, 1f, 1f, 0f, 0f, 1f, 0f, 1f, 1f, 1f)
        val eager = EagerExecutor(testBackend)
        val fp32 = CompiledExecutor(testBackend, Precision.Fp32)

        class Result(val loss: Double, val dx: FloatArray, val dw: FloatArray)

        /** Loss and gradients, host-side in float64: softmax minus one-hot, weighted per row. */
        fun reference(xs: FloatArray, targets: IntArray, mask: FloatArray): Result {
            val count = maxOf(mask.sumOf { it.toDouble() }, 1.0)
            val dx = DoubleArray(xs.size)
            val dw = DoubleArray(ws.size)
            var loss = 0.0
            for (n in 0 until batch * length) {
                val z =
                    DoubleArray(vocab) { v ->
                        (0 until width).sumOf { d ->
                            xs[n * width + d].toDouble() * ws[d * vocab + v]
                        }
                    }
                val top = z.max()
                val logSum = top + ln(z.sumOf { exp(it - top) })
                val weight = mask[n] / count
                loss += weight * (logSum - z[targets[n]])
                for (v in 0 until vocab) {
                    val g = weight * (exp(z[v] - logSum) - if (v == targets[n]) 1.0 else 0.0)
                    for (d in 0 until width) {
                        dx[n * width + d] += g * ws[d * vocab + v]
                        dw[d * vocab + v] += g * xs[n * width + d]
                    }
                }
            }
            return Result(
                loss,
                FloatArray(dx.size) { dx[it].toFloat() },
                FloatArray(dw.size) { dw[it].toFloat() },
            )
        }

        /**
         * One pass on [executor] with x = [xs]: the fused op, or the composition when not [fused].
         */
        fun pass(
            executor: Executor,
            xs: FloatArray = xValues,
            targets: IntArray = targetIds,
            mask: FloatArray = maskValues,
            fused: Boolean = true,
            train: Boolean = true,
            lossScale: Double = 1.0,
        ): Result =
            ParameterStore(registry, testBackend, seed = 1).use { store ->
                store.load(mapOf("x" to xs, "w" to ws))
                store.zeroGradients()
                val loss =
                    executor
                        .run(store, train, lossScale) { ops, params ->
                            val t = ops.tokens(targets, batch, length)
                            val m = ops.floats(mask, listOf(batch, length))
                            listOf(
                                if (fused) ops.linearCrossEntropy(params[x], params[w], t, m)
                                else ops.crossEntropy(ops.linear(params[x], params[w]), t, m)
                            )
                        }
                        .single()
                        .single()
                        .toDouble()
                val gradients = store.gradients()
                Result(loss, gradients.getValue("x"), gradients.getValue("w"))
            }

        /** [actual] within [rtol] of [expected] (loss relative, gradients whole in relative L2). */
        fun close(actual: Result, expected: Result, rtol: Double) {
            withClue("loss ${actual.loss} vs ${expected.loss}") {
                abs(actual.loss - expected.loss) / abs(expected.loss) shouldBeLessThan rtol
            }
            val atol = rtol * Tolerance.rms(listOf(expected.dx, expected.dw))
            withClue("dx") { Tolerance.close(actual.dx, expected.dx, rtol, atol) shouldBe true }
            withClue("dw") { Tolerance.close(actual.dw, expected.dw, rtol, atol) shouldBe true }
        }

        val expected = reference(xValues, targetIds, maskValues)

        context(
            "fp32: loss and gradients of x and w equal crossEntropy(linear(x, w)) within 1e-5"
        ) {
            withData(mapOf("eager" to eager, "compiled" to fp32)) { executor ->
                val fused = pass(executor)
                val composed = pass(executor, fused = false)
                close(composed, expected, Tolerance.FP32)
                close(fused, expected, Tolerance.FP32)
                close(fused, composed, Tolerance.FP32)
            }
        }

        // 10 positions in chunks of 3 rows (3, 3, 3, 1): the chunked path against the same
        // reference.
        context(
            "in chunks over the positions: the same loss and gradients (fp32 within 1e-5, bf16)"
        ) {
            fun chunked(precision: Precision) =
                CompiledExecutor(testBackend, precision).also {
                    it.headLossChunkBytes = 4L * vocab * 3
                }
            close(pass(chunked(Precision.Fp32)), expected, Tolerance.FP32)
            close(pass(chunked(Precision.Fp32)), pass(fp32), Tolerance.FP32)
            pass(chunked(Precision.Fp32), train = false).loss.let {
                abs(it - expected.loss) / expected.loss shouldBeLessThan Tolerance.FP32
            }
            close(pass(chunked(Precision.Bf16Mixed)), expected, 5e-2)
        }

        context("padding moves neither the loss nor a gradient, and gets no gradient itself") {
            withData(mapOf("eager" to eager, "compiled" to fp32)) { executor ->
                val padded = (0 until batch * length).filter { maskValues[it] == 0f }
                val otherXs = xValues.copyOf()
                val otherTargets = targetIds.copyOf()
                for (n in padded) {
                    for (d in 0 until width) otherXs[n * width + d] *= -3f
                    otherTargets[n] = (targetIds[n] + 5) % vocab
                }
                val base = pass(executor)
                val moved = pass(executor, xs = otherXs, targets = otherTargets)
                close(moved, base, Tolerance.FP32)
                for (n in padded) for (d in 0 until width) base.dx[n * width + d] shouldBe 0f
            }
        }

        test("compiled: a batch of padding only has loss 0 and zero gradients, not NaN") {
            val none = pass(fp32, mask = FloatArray(maskValues.size))
            none.loss shouldBe 0.0
            none.dx.all { it == 0f } shouldBe true
            none.dw.all { it == 0f } shouldBe true
        }

        test("compiled: backward from a scaled loss scales both gradients, and not the loss") {
            val scaled = pass(fp32, lossScale = 1024.0)
            close(
                Result(
                    scaled.loss,
                    FloatArray(scaled.dx.size) { scaled.dx[it] / 1024f },
                    FloatArray(scaled.dw.size) { scaled.dw[it] / 1024f },
                ),
                expected,
                Tolerance.FP32,
            )
        }

        test("compiled: the evaluation program (no gradients written) gives the same loss") {
            val loss = pass(fp32, train = false).loss
            abs(loss - expected.loss) / expected.loss shouldBeLessThan Tolerance.FP32
        }

        // bf16 rounds the operands of the three products to 8 bits of mantissa; the softmax and the
        // loss stay fp32. The bounds are those the model-level bf16 checks use.
        test("compiled bf16-mixed: loss within 2% and gradients within 5% of the reference") {
            close(pass(CompiledExecutor(testBackend, Precision.Bf16Mixed)), expected, 5e-2)
            val loss = pass(CompiledExecutor(testBackend, Precision.Bf16Mixed)).loss
            abs(loss - expected.loss) / expected.loss shouldBeLessThan 2e-2
        }

        // fp16 runs with a loss scale: the products in fp16 (10 bits of mantissa), the scale
        // reaching both gradients through the surrogate, the returned loss unscaled.
        test("compiled fp16-mixed with a loss scale: within 1% of the reference") {
            val low = pass(CompiledExecutor(testBackend, Precision.Fp16Mixed), lossScale = 256.0)
            close(
                Result(
                    low.loss,
                    FloatArray(low.dx.size) { low.dx[it] / 256f },
                    FloatArray(low.dw.size) { low.dw[it] / 256f },
                ),
                expected,
                1e-2,
            )
        }
    })
