package looplab.models.decoder

import looplab.models.params.ParamScope
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/** The SwiGLU feed-forward: `down(silu(gate(x)) * up(x))`. */
internal class SwiGlu(scope: ParamScope, width: Int, hidden: Int, initStd: Double, residualStd: Double) {
    private val gate = scope.matrix("gate", width, hidden, initStd)
    private val up = scope.matrix("up", width, hidden, initStd)
    private val down = scope.matrix("down", hidden, width, residualStd)

    fun apply(ops: Ops, p: Params, x: Tensor): Tensor = with(ops) {
        linear(silu(linear(x, p[gate])) * linear(x, p[up]), p[down])
    }
}
