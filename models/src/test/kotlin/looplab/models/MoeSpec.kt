package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.random.Random
import looplab.dsl.Moe
import looplab.models.decoder.Forward
import looplab.models.eager.ParameterStore
import looplab.models.eager.array
import looplab.models.params.ParamRegistry
import looplab.models.parts.MixtureOfExperts
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

class MoeSpec :
    FunSpec({
        val width = 16
        val batch = 2
        val length = 11 // not a multiple of the group: the padded tail is exercised too

        /**
         * Runs the MoE on a fixed input and returns its output and the gradient of a fixed
         * projection of it with respect to every MoE parameter; [reference] swaps the dispatch for
         * running every expert on every token and masking by the router's decision.
         */
        fun run(moe: Moe, reference: Boolean): Pair<FloatArray, Map<String, FloatArray>> {
            val registry = ParamRegistry()
            val layer =
                MixtureOfExperts(
                    registry.scope("moe"),
                    moe,
                    width,
                    initStd = 0.3,
                    residualStd = 0.3,
                    loops = 3,
                )
            val store = ParameterStore(registry, testBackend, seed = 21)
            val random = Random(5)
            val input = FloatArray(batch * length * width) { random.nextFloat() * 2 - 1 }
            val probe = FloatArray(batch * length * width) { random.nextFloat() * 2 - 1 }
            store.zeroGradients()
            val out =
                testBackend.gradients().use { collector ->
                    testBackend.scoped(store.values) { ops, _ ->
                        val f = Forward(ops, store, Pass.Inference)
                        val x = ops.floats(input, listOf(batch, length, width))
                        val y =
                            if (reference) dense(ops, f, layer, x)
                            else layer.apply(f, x, loop = 1, name = "moe")
                        collector.backward(
                            ops.sumAll(ops.mul(y, ops.floats(probe, listOf(batch, length, width))))
                                .array
                        )
                        y.array.toFloatArray()
                    }
                }
            return out to store.gradients()
        }

        fun close(a: FloatArray, b: FloatArray, what: String) {
            val scale = a.maxOf { abs(it) }.toDouble()
            val worst = a.indices.maxOf { abs(a[it] - b[it]).toDouble() }
            io.kotest.assertions.withClue("$what differs by $worst (scale $scale)") {
                worst shouldBeLessThan 1e-6 + 1e-5 * scale
            }
        }

        for ((label, moe) in
            listOf(
                "dropless" to
                    Moe(experts = 5, topK = 2, shared = 1, capacityFactor = null, group = 4),
                "with a tight capacity (tokens dropped)" to
                    Moe(experts = 5, topK = 2, shared = 1, capacityFactor = 0.5, group = 4),
                "without shared experts, top-1" to
                    Moe(experts = 4, topK = 1, shared = 0, capacityFactor = 1.0, group = 8),
            )) {
            test(
                "the static dispatch equals running every expert and masking, in output and gradients: $label"
            ) {
                val (out, grads) = run(moe, reference = false)
                val (expected, expectedGrads) = run(moe, reference = true)
                close(expected, out, "output")
                grads.keys shouldBe expectedGrads.keys
                for (name in grads.keys) close(
                    expectedGrads.getValue(name),
                    grads.getValue(name),
                    "gradient of $name",
                )
                // With two or more experts per token the router learns through the normalised
                // gates.
                if (moe.topK > 1)
                    grads.getValue("moe.router").maxOf { abs(it) }.toDouble() shouldBeGreaterThan
                        1e-4
            }
        }

        test("a tight capacity really drops assignments, and a dropless one never does") {
            fun dropped(moe: Moe): Double {
                val registry = ParamRegistry()
                val layer =
                    MixtureOfExperts(registry.scope("moe"), moe, width, 0.3, 0.3, loops = null)
                val store = ParameterStore(registry, testBackend, seed = 21)
                return testBackend.scoped(store.values) { ops, _ ->
                    val f = Forward(ops, store, Pass.Inference)
                    val x =
                        ops.floats(
                            FloatArray(batch * length * width) { Random(it).nextFloat() },
                            listOf(batch, length, width),
                        )
                    val routing = layer.route(f, layer.grouped(ops, x), null)
                    val chosen = ops.sumAll(routing.chosen).array.getFloat()
                    val kept = ops.sumAll(routing.dispatch).array.getFloat()
                    (1 - kept / chosen).toDouble()
                }
            }
            dropped(Moe(experts = 5, topK = 2, capacityFactor = 0.5, group = 4)) shouldBeGreaterThan
                0.0
            dropped(Moe(experts = 5, topK = 2, capacityFactor = null, group = 4)) shouldBe 0.0
        }
    })

/**
 * The reference: every routed expert on every token, weighted by gate × (chosen and given a slot),
 * plus the shared experts.
 */
private fun dense(ops: Ops, f: Forward, layer: MixtureOfExperts, x: Tensor): Tensor =
    with(ops) {
        val (batch, length, width) = x.shape
        val grouped = layer.grouped(this, x)
        val routing = layer.route(f, grouped, 1)
        val all = layer.everyExpert(f, grouped) // [R, N, G, W]
        val weights = routing.gates * routing.kept(this) // [N, G, R]
        val routed = all.shape[0]
        var out: Tensor? = null
        for (e in 0 until routed) {
            val term = reshape(slice(all, 0, e, e + 1), grouped.shape) * slice(weights, 2, e, e + 1)
            out = out?.let { it + term } ?: term
        }
        val flat = reshape(out!!, listOf(batch, grouped.shape[0] * grouped.shape[1] / batch, width))
        val y = slice(flat, 1, 0, length)
        layer.sharedOutput(f, x)?.let { y + it } ?: y
    }
