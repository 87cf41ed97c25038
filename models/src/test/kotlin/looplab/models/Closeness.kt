package looplab.models

import kotlin.math.sqrt

/**
 * ‖a − b‖ / max(‖b‖, floor): a whole tensor's relative error, robust to summation order (an element
 * near zero cannot blow it up) and, with the floor, to tensors that are all near zero.
 */
fun relativeL2(a: FloatArray, b: FloatArray, floor: Double = 1e-6): Double {
    require(a.size == b.size) { "sizes differ: ${a.size} and ${b.size}" }
    var diff = 0.0
    var norm = 0.0
    for (i in a.indices) {
        val d = a[i].toDouble() - b[i]
        diff += d * d
        norm += b[i].toDouble() * b[i]
    }
    return sqrt(diff) / maxOf(sqrt(norm), floor)
}

fun relativeL2(a: DoubleArray, b: FloatArray, floor: Double = 1e-6): Double =
    relativeL2(FloatArray(a.size) { a[it].toFloat() }, b, floor)
