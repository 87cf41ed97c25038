package looplab.models.optim

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import looplab.models.eager.ParameterStore
import looplab.models.params.ParamRef

/**
 * AdamW's first and second moments, one array of each per parameter of [refs] (allocated on
 * [manager], zero at first), and their host copy under the keys `m.<name>` and `v.<name>`: the
 * state layout [AdamWOptimizer] and the fused optimizer share, so checkpoints move between them.
 */
internal class AdamWMoments(val refs: List<ParamRef>, store: ParameterStore, manager: NDManager) {
    val first: Map<ParamRef, NDArray> = refs.associateWith { manager.zeros(store.array(it).shape) }
    val second: Map<ParamRef, NDArray> = refs.associateWith { manager.zeros(store.array(it).shape) }

    /** Both moments by parameter name. */
    fun snapshot(): Map<String, FloatArray> =
        refs
            .flatMap { ref ->
                listOf(
                    "m.${ref.name}" to first.getValue(ref).toFloatArray(),
                    "v.${ref.name}" to second.getValue(ref).toFloatArray(),
                )
            }
            .toMap()

    /** Sets both moments from a [snapshot]. */
    fun load(tensors: Map<String, FloatArray>) {
        for (ref in refs) {
            first
                .getValue(ref)
                .set(tensors["m.${ref.name}"] ?: error("optimizer state lacks m.${ref.name}"))
            second
                .getValue(ref)
                .set(tensors["v.${ref.name}"] ?: error("optimizer state lacks v.${ref.name}"))
        }
    }
}

/** One momentum array per parameter of [refs], saved under `m.<name>` (Lion's and Muon's state). */
internal class Momentum(val refs: List<ParamRef>, store: ParameterStore, manager: NDManager) {
    val arrays: Map<ParamRef, NDArray> = refs.associateWith { manager.zeros(store.array(it).shape) }

    fun snapshot(): Map<String, FloatArray> =
        refs.associate { "m.${it.name}" to arrays.getValue(it).toFloatArray() }

    fun load(tensors: Map<String, FloatArray>) {
        for (ref in refs) arrays
            .getValue(ref)
            .set(tensors["m.${ref.name}"] ?: error("optimizer state lacks m.${ref.name}"))
    }
}
