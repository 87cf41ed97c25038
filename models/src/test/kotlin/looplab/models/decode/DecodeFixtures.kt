package looplab.models.decode

import kotlin.math.sqrt
import kotlin.random.Random
import looplab.dsl.ModelSpec
import looplab.models.eager.ParameterStore

/**
 * Relative L2 error of [actual] against [reference], with an absolute floor on the reference's
 * norm: summation order differs between kernels (and between CPUs), so only the whole tensor's
 * error is meaningful, never a per-element ratio of small values.
 */
fun relativeL2(actual: FloatArray, reference: FloatArray, floor: Double = 1e-3): Double {
    require(actual.size == reference.size) { "sizes differ: ${actual.size} vs ${reference.size}" }
    var difference = 0.0
    var norm = 0.0
    for (i in reference.indices) {
        difference += (actual[i] - reference[i]).toDouble().let { it * it }
        norm += reference[i].toDouble() * reference[i]
    }
    return sqrt(difference) / maxOf(sqrt(norm), floor)
}

/**
 * Moves every parameter away from its initialisation: many parts start as the identity (zero
 * adapters, a zero latent projection, a closed refinement), where a wrong cache would go unseen.
 */
fun ParameterStore.perturb(seed: Int, size: Float = 0.1f) {
    val random = Random(seed)
    load(
        snapshot().mapValues { (_, values) ->
            FloatArray(values.size) { values[it] + size * (random.nextFloat() * 2 - 1) }
        }
    )
}

/**
 * The spec with a context long enough for a prompt and 32 decoded tokens (learned positions, NTK).
 */
fun ModelSpec.forDecoding(): ModelSpec = copy(contextLength = 64)
