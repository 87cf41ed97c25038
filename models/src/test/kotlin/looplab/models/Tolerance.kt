package looplab.models

import kotlin.math.sqrt

/**
 * How far two fp32 computations of the same function may differ when only the order of the
 * floating-point operations differs: another kernel, another fusion, another CPU.
 *
 * Error model: an output element is a sum of K rounded terms, and reordering the sum moves it by up
 * to about K·ε·Σ|terms| (ε = 2⁻²⁴ ≈ 6e-8). When the terms cancel (a gate's bias gradient adds up
 * every position's contribution with both signs) that is large relative to the element itself, so a
 * per-element relative bound measures the cancellation and the CPU's summation order, not
 * correctness: `exit_gate.loop2.b` of the golf preset differed by 1.55e-5 relative on an AMD EPYC
 * and by less on the machine that set the old bound.
 *
 * So tensors are compared whole, in the L2 norm, with an absolute floor:
 *
 *     ‖actual − reference‖₂ ≤ rtol·‖reference‖₂ + atol·√n
 *
 * `rtol` bounds the error relative to the tensor's own size. `atol` is a per-element floor, and
 * `atol·√n` is what n independent per-element errors of size atol add up to in the L2 norm, so the
 * floor grows with the tensor as rounding noise does. Callers size atol to the scale of the terms
 * being summed, e.g. `rtol` times the RMS of every gradient of the model: an error below that is
 * rounding of the whole computation, not a wrong formula. A wrong formula (a missing term, a sign,
 * a transposed operand) moves a tensor by a sizeable fraction of its norm and fails both terms.
 */
object Tolerance {
    /** fp32 with a different operation order: 1e-5 leaves ~100 ε of room, a real bug is ≥ 1e-3. */
    const val FP32: Double = 1e-5

    fun l2(values: FloatArray): Double = sqrt(values.sumOf { it.toDouble() * it })

    fun rms(tensors: Collection<FloatArray>): Double {
        val n = tensors.sumOf { it.size }
        return if (n == 0) 0.0 else sqrt(tensors.sumOf { t -> t.sumOf { it.toDouble() * it } } / n)
    }

    /** ‖actual − reference‖₂ divided by the bound; ≤ 1 passes. */
    fun ratio(actual: FloatArray, reference: FloatArray, rtol: Double, atol: Double): Double {
        require(actual.size == reference.size) {
            "sizes differ: ${actual.size} vs ${reference.size}"
        }
        val difference =
            sqrt(
                actual.indices.sumOf { (actual[it] - reference[it]).toDouble().let { d -> d * d } }
            )
        val bound = rtol * l2(reference) + atol * sqrt(reference.size.toDouble())
        return if (bound == 0.0) (if (difference == 0.0) 0.0 else Double.POSITIVE_INFINITY)
        else difference / bound
    }

    /** Whether [actual] is within the bound of [reference]; see the class comment. */
    fun close(actual: FloatArray, reference: FloatArray, rtol: Double, atol: Double): Boolean =
        ratio(actual, reference, rtol, atol) <= 1.0

    /**
     * Every tensor of [actual] close to [reference]'s with the floor sized to the whole set: atol
     * is rtol times the RMS of every element of [reference]. Returns the names that fail, with
     * detail.
     */
    fun mismatches(
        actual: Map<String, FloatArray>,
        reference: Map<String, FloatArray>,
        rtol: Double = FP32,
    ): List<String> {
        val atol = rtol * rms(reference.values)
        return reference.mapNotNull { (name, ref) ->
            val got = actual[name] ?: return@mapNotNull "$name: missing"
            val r = ratio(got, ref, rtol, atol)
            if (r <= 1.0) null
            else
                "$name: ‖Δ‖ is ${"%.2f".format(r)}× the bound (‖ref‖=${l2(ref)}, n=${ref.size}, atol=$atol)"
        }
    }
}
