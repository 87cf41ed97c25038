package looplab.models.eager

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import looplab.models.Executor
import looplab.models.StatefulExecutor
import looplab.models.StatefulOutputs
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * Runs computations op by op on DJL NDArrays: the reference every other backend is checked against.
 */
public class EagerExecutor(private val backend: EagerBackend) : Executor, StatefulExecutor {
    override fun run(
        store: ParameterStore,
        train: Boolean,
        lossScale: Double,
        compute: (Ops, Params) -> List<Tensor>,
    ): List<FloatArray> {
        if (!train)
            return backend.scoped(store.values) { ops, _ ->
                compute(ops, store).map { it.array.toFloatArray() }
            }
        return backend.gradients().use { collector ->
            backend.scoped(store.values) { ops, _ ->
                val outputs = compute(ops, store)
                val target =
                    if (lossScale == 1.0) outputs.first() else ops.scale(outputs.first(), lossScale)
                collector.backward(target.array)
                outputs.map { it.array.toFloatArray() }
            }
        }
    }

    override fun runStateful(
        store: ParameterStore,
        state: List<NDArray>,
        keep: NDManager,
        compute: (Ops, Params, List<Tensor>) -> StatefulOutputs,
    ): Pair<List<FloatArray>, List<NDArray>> =
        backend.scoped(store.values, state) { ops, _ ->
            val outputs = compute(ops, store, state.map { EagerTensor(it) })
            outputs.host.map { it.array.toFloatArray() } to
                outputs.state.map { it.array.also { array -> array.attach(keep) } }
        }
}
