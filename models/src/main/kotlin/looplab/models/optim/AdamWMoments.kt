package looplab.models.optim

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import looplab.models.eager.ParameterStore
import looplab.models.params.ParamRef

/**
 * AdamW's first and second moments, one array of each per parameter of [store] (allocated on
 * [manager], zero at first), and their host copy under the keys `m.<name>` and `v.<name>`: the
 * state layout [AdamWOptimizer] and the fused optimizer share, so checkpoints move between them.
 */
internal class AdamWMoments(store: ParameterStore, manager: NDManager) {
    /** Every parameter, in declaration order. */
    val refs: List<ParamRef> = store.registry.all
    val first: Map<ParamRef, NDArray> = refs.associateWith { manager.zeros(store.array(it).shape) }
    val second: Map<ParamRef, NDArray> = refs.associateWith { manager.zeros(store.array(it).shape) }

    /** Both moments by parameter name, with the optimizer's [steps]. */
    fun snapshot(steps: Long): OptimizerState = OptimizerState(
        steps = steps,
        tensors = refs.flatMap { ref ->
            listOf("m.${ref.name}" to first.getValue(ref).toFloatArray(), "v.${ref.name}" to second.getValue(ref).toFloatArray())
        }.toMap(),
    )

    /** Sets both moments from a [snapshot]; the step count is left to the optimizer. */
    fun load(state: OptimizerState) {
        for (ref in refs) {
            first.getValue(ref).set(state.tensors["m.${ref.name}"] ?: error("optimizer state lacks m.${ref.name}"))
            second.getValue(ref).set(state.tensors["v.${ref.name}"] ?: error("optimizer state lacks v.${ref.name}"))
        }
    }
}
