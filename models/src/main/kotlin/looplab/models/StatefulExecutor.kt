package looplab.models

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import looplab.models.eager.ParameterStore
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * What a stateful computation returns: tensors to read on the host, and the state to keep on the
 * device.
 */
public class StatefulOutputs(public val host: List<Tensor>, public val state: List<Tensor>)

/**
 * Runs inference computations that carry state between calls (a decoding cache) without it leaving
 * the device: [state] arrays come in as tensors, the new state goes out as arrays owned by [keep].
 * The compiled backend passes them to its program as inputs and takes them back as outputs, so a
 * call with the same shapes reuses one program.
 */
public interface StatefulExecutor {
    public fun runStateful(
        store: ParameterStore,
        state: List<NDArray>,
        keep: NDManager,
        compute: (Ops, Params, List<Tensor>) -> StatefulOutputs,
    ): Pair<List<FloatArray>, List<NDArray>>
}
