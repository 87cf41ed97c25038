package looplab.models.decoder

import looplab.dsl.Act
import looplab.dsl.Adapters
import looplab.dsl.ParamRole
import looplab.models.params.ParamScope
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * nano-osrt's per-pass residual adapter, `x + scale·(x·A·B)`, one per (block, loop). B starts at
 * zero, so at initialisation every loop computes the unadapted block and the loops differ only as
 * training makes them.
 */
internal class Adapter(scope: ParamScope, width: Int, private val config: Adapters) {
    private val a = scope.matrix("a", width, config.rank, config.std, ParamRole.Adapter)
    private val b = scope.zeros("b", listOf(config.rank, width), ParamRole.Adapter)

    fun apply(ops: Ops, p: Params, x: Tensor): Tensor =
        with(ops) { x + scale(linear(linear(x, p[a]), p[b]), config.scale) }
}

/**
 * A per-token gate for one pass: `x + g·(pass(x) - x)` with `g = sigmoid(x·w + b)` read from the
 * pass's input, so a token can keep its stream and skip the pass. It starts almost open (w = 0, b =
 * 3, g ≈ 0.95).
 */
internal class ExitGate(scope: ParamScope, width: Int) {
    private val w = scope.zeros("w", listOf(width, 1), ParamRole.Control)
    private val b = scope.control("b", listOf(1), 3.0)

    /** The gate [B, S, 1] for a pass that starts from [x]. */
    fun open(ops: Ops, p: Params, x: Tensor): Tensor = with(ops) { sigmoid(linear(x, p[w]) + p[b]) }
}

/**
 * The halting unit of adaptive computation: `p = sigmoid(y·w + b)` per position, starting at p ≈
 * 0.27.
 */
internal class HaltingUnit(scope: ParamScope, width: Int, val act: Act) {
    private val w = scope.zeros("w", listOf(width, 1), ParamRole.Control)
    private val b = scope.control("b", listOf(1), -1.0)

    fun probability(ops: Ops, p: Params, y: Tensor): Tensor =
        with(ops) { sigmoid(linear(y, p[w]) + p[b]) }
}
