package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import kotlin.random.Random

/** The comparison the equivalence tests use passes rounding noise and fails the bugs it is for. */
class ToleranceSpec :
    FunSpec({
        val random = Random(7)
        val gradients =
            mapOf(
                "matrix" to FloatArray(4096) { random.nextFloat() - 0.5f },
                "bias" to floatArrayOf(3e-4f), // a cancelling sum: tiny next to the rest
            )
        fun perturbed(name: String, change: (Float) -> Float) =
            gradients.mapValues { (n, v) ->
                if (n == name) FloatArray(v.size) { change(v[it]) } else v
            }

        test("rounding noise of ~100 ε per element passes, also on a small cancelling sum") {
            Tolerance.mismatches(perturbed("matrix") { it * (1 + 6e-6f) }, gradients) shouldBe
                emptyList()
            // 2e-5 relative on the bias (the AMD/Intel difference that failed the per-element
            // bound)
            Tolerance.mismatches(perturbed("bias") { it * (1 + 2e-5f) }, gradients) shouldBe
                emptyList()
        }

        test("a wrong formula fails: a 0.1% scale error, a sign, a dropped element") {
            Tolerance.mismatches(perturbed("matrix") { it * 1.001f }, gradients).map {
                it.substringBefore(':')
            } shouldContainExactly listOf("matrix")
            Tolerance.mismatches(perturbed("bias") { -it }, gradients).map {
                it.substringBefore(':')
            } shouldContainExactly listOf("bias")
            val dropped =
                gradients.getValue("matrix").copyOf().also {
                    it[17] = 0f
                    it[18] = 0f
                    it[19] = 0f
                }
            Tolerance.mismatches(gradients + ("matrix" to dropped), gradients).map {
                it.substringBefore(':')
            } shouldContainExactly listOf("matrix")
        }
    })
