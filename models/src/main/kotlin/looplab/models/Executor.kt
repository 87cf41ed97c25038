package looplab.models

import looplab.models.eager.ParameterStore
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * Runs model computations on a backend: eagerly op by op, or as a compiled program. The caller says
 * what to compute as a function of ops and parameters and gets every output back on the host; with
 * [train] the first output (a scalar loss) is also differentiated, leaving gradients on the store's
 * parameters.
 */
public interface Executor {
    /**
     * With [train], the backward pass starts from the first output times [lossScale] (fp16 loss
     * scaling; the outputs themselves are returned unscaled).
     */
    public fun run(
        store: ParameterStore,
        train: Boolean,
        lossScale: Double = 1.0,
        compute: (Ops, Params) -> List<Tensor>,
    ): List<FloatArray>
}
