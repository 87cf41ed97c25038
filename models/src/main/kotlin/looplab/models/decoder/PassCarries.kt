package looplab.models.decoder

import looplab.dsl.LowRankCarry
import looplab.dsl.ModelSpec
import looplab.models.params.ParamRef
import looplab.models.params.ParamScope
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * The temporal-difference carry: the change of the stream between the starts of two consecutive
 * passes, `Δ = x_i - x_(i-1)`, projected through rank r and added to pass i: `Δ·A·B`. B starts at
 * zero, so the carry starts as a no-op. One (A, B) serves every pass.
 */
internal class TdCarry(scope: ParamScope, width: Int, config: LowRankCarry) {
    private val a = scope.matrix("a", width, config.rank, config.std)
    private val b = scope.zeros("b", listOf(config.rank, width))

    fun term(ops: Ops, p: Params, x: Tensor, previous: Tensor): Tensor =
        with(ops) { linear(linear(x - previous, p[a]), p[b]) }
}

/**
 * The selective-state GRU carry: a rank-r state per position, updated from each pass's output y by
 * a GRU cell (`u = σ(y·W_u + s·U_u + b_u)`, `g = σ(y·W_g + s·U_g + b_g)`, `c = tanh(y·W_c +
 * (g⊙s)·U_c + b_c)`, `s ← s + u⊙(c - s)`) and read into the next pass as `s·O`. O starts at zero,
 * so the carry starts as a no-op.
 */
internal class GruCarry(scope: ParamScope, width: Int, config: LowRankCarry) {
    private val rank = config.rank
    private val input = scope.matrix("input", width, 3 * rank, config.std)
    private val gates = scope.matrix("state_gates", rank, 2 * rank, config.std)
    private val candidate = scope.matrix("state_candidate", rank, rank, config.std)
    private val bias = scope.control("bias", listOf(3 * rank), 0.0)
    private val out = scope.zeros("out", listOf(rank, width))

    /**
     * The state after a pass that produced [y], from [state] (null: the zero state before the first
     * pass).
     */
    fun update(ops: Ops, p: Params, y: Tensor, state: Tensor?): Tensor =
        with(ops) {
            val fromInput = linear(y, p[input]) + p[bias]
            val inputGates = slice(fromInput, 2, 0, 2 * rank)
            val inputCandidate = slice(fromInput, 2, 2 * rank, 3 * rank)
            val one = full(1.0, emptyList())
            // tanh(a) = 2σ(2a) - 1: the ops have a sigmoid, and this keeps them as they are.
            fun tanh(a: Tensor) = scale(sigmoid(scale(a, 2.0)), 2.0) - one
            if (state == null) {
                return@with sigmoid(slice(inputGates, 2, 0, rank)) * tanh(inputCandidate)
            }
            val both = sigmoid(inputGates + linear(state, p[gates]))
            val update = slice(both, 2, 0, rank)
            val reset = slice(both, 2, rank, 2 * rank)
            val next = tanh(inputCandidate + linear(reset * state, p[candidate]))
            state + update * (next - state)
        }

    fun read(ops: Ops, p: Params, state: Tensor): Tensor = ops.linear(state, p[out])
}

/**
 * Confidence conditioning: pass i (after the first) adds `c·a_i + (1 - c)·b_i` to its input, `c`
 * the previous pass's exit-gate value at the position. Both vectors start at zero.
 */
internal class ConfidenceConditioning(scope: ParamScope, width: Int, loops: Int) {
    private val confident: List<ParamRef?> =
        List(loops) {
            if (it == 0) null else scope.control("loop$it.confident", listOf(width), 0.0)
        }
    private val unsure: List<ParamRef?> =
        List(loops) { if (it == 0) null else scope.control("loop$it.unsure", listOf(width), 0.0) }

    fun term(ops: Ops, p: Params, loop: Int, confidence: Tensor): Tensor =
        with(ops) {
            val unsure = p[unsure[loop]!!]
            unsure + confidence * (p[confident[loop]!!] - unsure)
        }
}

/** The carries a model declares (any of them may be absent). */
internal class PassCarries(root: ParamScope, spec: ModelSpec) {
    private val r = spec.recursive
    private val td = r.tdCarry?.let { TdCarry(root.scope("td_carry"), spec.width, it) }
    private val gru = r.gruCarry?.let { GruCarry(root.scope("gru_carry"), spec.width, it) }
    private val conditioning =
        if (r.confidence) ConfidenceConditioning(root.scope("confidence"), spec.width, r.loops)
        else null

    val any: Boolean
        get() = td != null || gru != null || conditioning != null

    /**
     * What one forward pass carries from pass to pass, per position: the stream at the start of the
     * previous pass, the GRU state and the previous exit gate's value.
     */
    inner class State {
        private var previousInput: Tensor? = null
        private var gruState: Tensor? = null

        /** The exit gate of the pass just run ([B, S, 1]), set by the core. */
        var confidence: Tensor? = null

        /** The carries' terms added to pass [loop]'s stream [h], whose input was [x]. */
        fun enter(ops: Ops, p: Params, h: Tensor, x: Tensor, loop: Int): Tensor =
            with(ops) {
                var out = h
                if (loop > 0) {
                    td?.let { out = out + it.term(this, p, x, previousInput!!) }
                    gru?.let { out = out + it.read(this, p, gruState!!) }
                    conditioning?.let { out = out + it.term(this, p, loop, confidence!!) }
                }
                out
            }

        /** Records a pass (input [x], output [y]) for the next one. */
        fun leave(ops: Ops, p: Params, x: Tensor, y: Tensor) {
            previousInput = x
            gru?.let { gruState = it.update(ops, p, y, gruState) }
        }
    }
}
