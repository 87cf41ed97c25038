package looplab.models.parts

import looplab.dsl.Moe
import looplab.dsl.ParamRole
import looplab.models.decoder.Forward
import looplab.models.decoder.SwiGlu
import looplab.models.params.ParamRef
import looplab.models.params.ParamScope
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * A mixture of SwiGLU experts with static shapes (see [Moe]): shared experts see every token;
 * routed experts see the tokens the sigmoid router sends them, dispatched into fixed-size slots
 * with one-hot matrices (GShard's einsum dispatch), so no shape depends on the data.
 *
 * Positions are taken in groups of `group` along the sequence (the end padded with zeros); within a
 * group, a routed expert's slots fill in position order, so whether a token finds a free slot
 * depends only on the tokens before it: the layer stays causal, and padding at the end of a
 * sequence never takes a slot from a real token.
 */
internal class MixtureOfExperts(
    scope: ParamScope,
    private val moe: Moe,
    private val width: Int,
    initStd: Double,
    residualStd: Double,
    /**
     * Loops of the core when the router sees the loop index; null outside the loop or when not
     * loop-aware.
     */
    loops: Int?,
) {
    private val hidden = moe.resolvedHidden(width)
    private val routed = moe.routed
    private val router =
        scope.matrix(
            "router",
            if (loops != null) 2 * width else width,
            routed,
            initStd,
            ParamRole.Router,
        )
    private val loopEmbedding = loops?.let { scope.table("loop_embed", it, width, initStd) }
    private val shared =
        List(moe.shared) { SwiGlu(scope.scope("shared.$it"), width, hidden, initStd, residualStd) }
    private val gate = expertWeights(scope, "experts.gate", width, hidden, initStd)
    private val up = expertWeights(scope, "experts.up", width, hidden, initStd)
    private val down = expertWeights(scope, "experts.down", hidden, width, residualStd)

    private fun expertWeights(
        scope: ParamScope,
        name: String,
        inputs: Int,
        outputs: Int,
        std: Double,
    ): ParamRef =
        scope.tensor(
            name,
            listOf(routed, inputs, outputs),
            looplab.models.params.Init.Normal(std),
            ParamRole.Matrix,
        )

    /** How the router decided for a batch: everything the dispatch and the dense reference need. */
    internal class Routing(
        /** [N, G, E] router logits, N groups of G positions. */
        val logits: Tensor,
        /** [N, G, E] 1 where the expert is among the token's top-k. */
        val chosen: Tensor,
        /** [N, G, E] normalised scores of the chosen experts (0 elsewhere). */
        val gates: Tensor,
        /** [N, G, E, C] 1 at the slot a chosen, not dropped, token takes. */
        val dispatch: Tensor,
    ) {
        /** [N, G, E] 1 where the token reaches the expert (chosen and given a slot). */
        fun kept(ops: Ops): Tensor = ops.sum(dispatch, -1)
    }

    /**
     * [x] ([B, S, width]) through the experts; [loop] is the 0-based loop index inside the core.
     * Decoding keeps, as the state [name], how many assignments each expert has taken in the
     * current group of each row: a new token's slot (and so whether it is dropped) depends on them.
     */
    fun apply(f: Forward, x: Tensor, loop: Int?, name: String): Tensor =
        with(f.ops) {
            f.slots?.let {
                return step(f, x, loop, name, it.slots)
            }
            val (batch, length, _) = x.shape
            val grouped = grouped(this, x)
            val routing = route(f, grouped, loop)
            val capacity = moe.capacity
            val groups = grouped.shape[0]
            // Expert inputs [E, N·C, width]: slot c of expert e in group n holds the token the
            // dispatch puts there.
            val flatDispatch =
                reshape(routing.dispatch, listOf(groups, moe.group, routed * capacity))
            val slotInputs = matmul(transpose(flatDispatch, 1, 2), grouped)
            val expertInputs =
                reshape(
                    transpose(reshape(slotInputs, listOf(groups, routed, capacity, width)), 0, 1),
                    listOf(routed, groups * capacity, width),
                )
            val p = f.params
            val expertOutputs =
                matmul(silu(matmul(expertInputs, p[gate])) * matmul(expertInputs, p[up]), p[down])
            val slotOutputs =
                reshape(
                    transpose(
                        reshape(expertOutputs, listOf(routed, groups, capacity, width)),
                        0,
                        1,
                    ),
                    listOf(groups, routed * capacity, width),
                )
            val combine =
                reshape(
                    routing.dispatch * reshape(routing.gates, listOf(groups, moe.group, routed, 1)),
                    listOf(groups, moe.group, routed * capacity),
                )
            var out = ungrouped(this, matmul(combine, slotOutputs), batch, length)
            for (expert in shared) out = out + expert.apply(this, p, x)
            if (f.wantsLoss) report(f, routing, batch, length)
            f.cache?.let { cache ->
                // Assignments so far in the group the next position falls in (none when it starts
                // one).
                val start = length / moe.group * moe.group
                val chosen = ungrouped(this, routing.chosen, batch, length, routed)
                cache.write(
                    name,
                    if (start == length) zeros(listOf(batch, routed))
                    else sum(slice(chosen, 1, start, length), 1),
                )
            }
            out
        }

    /**
     * One token per row ([x] [B, 1, width]) at stream positions [slots]: the router as in [route];
     * the token keeps an expert when fewer than `capacity` earlier tokens of its group chose it,
     * exactly as the slot order of the whole sequence decides. Every routed expert runs on every
     * row and the output masks them (a decoding batch is small; no dispatch to build).
     */
    private fun step(f: Forward, x: Tensor, loop: Int?, name: String, slots: IntArray): Tensor =
        with(f.ops) {
            val p = f.params
            val batch = x.shape[0]
            val routing = route(f, x, loop)
            val starts =
                floats(
                    FloatArray(batch) { if (slots[it] % moe.group == 0) 1f else 0f },
                    listOf(batch, 1),
                )
            val taken = f.cache!!.read(name) * (full(1.0, emptyList()) - starts)
            val chosen = reshape(routing.chosen, listOf(batch, routed))
            f.cache.write(name, taken + chosen)
            val kept = chosen * greaterEqual(full(moe.capacity - 1.0, emptyList()), taken)
            val weights =
                reshape(
                    transpose(reshape(routing.gates, listOf(batch, routed)) * kept, 0, 1),
                    listOf(routed, batch, 1),
                )
            val inputs =
                broadcastTo(reshape(x, listOf(1, batch, width)), listOf(routed, batch, width))
            val outputs = matmul(silu(matmul(inputs, p[gate])) * matmul(inputs, p[up]), p[down])
            var out = reshape(sum(outputs * weights, 0), listOf(batch, 1, width))
            for (expert in shared) out = out + expert.apply(this, p, x)
            out
        }

    /**
     * The router's decision for [grouped] ([N, G, width]): sigmoid scores of `[x,
     * loopEmbedding]·W`, the top-k of each token, their scores normalised to sum to one, and the
     * slot each kept assignment takes (its rank among earlier assignments to that expert in the
     * group).
     */
    internal fun route(f: Forward, grouped: Tensor, loop: Int?): Routing =
        with(f.ops) {
            val p = f.params
            // The router runs in fp32 under mixed precision (Switch Transformer's "selective
            // precision"):
            // which experts a token reaches must not hinge on bf16 rounding.
            val logits = fullPrecision {
                if (loopEmbedding == null) {
                    linear(grouped, p[router])
                } else {
                    val row = slice(p[loopEmbedding], 0, loop!!, loop + 1)
                    val weights = p[router]
                    linear(grouped, slice(weights, 0, 0, width)) +
                        linear(row, slice(weights, 0, width, 2 * width))
                }
            }
            val scores = sigmoid(logits)
            val chosen = topkMask(scores, moe.topK)
            val picked = scores * chosen
            val gates = picked / sum(picked, -1, keepDim = true)
            // Exclusive running count: the slot this assignment would take in its expert's buffer.
            val slot = cumsum(chosen, 1) - chosen
            val capacity = moe.capacity
            val slots = floats(FloatArray(capacity) { it.toFloat() }, listOf(capacity))
            val next = floats(FloatArray(capacity) { it + 1f }, listOf(capacity))
            val wide = reshape(slot, slot.shape + 1)
            // 1 exactly where slot == c; all zero when slot ≥ capacity (the assignment is dropped).
            val oneHot = greaterEqual(wide, slots) - greaterEqual(wide, next)
            Routing(logits, chosen, gates, oneHot * reshape(chosen, chosen.shape + 1))
        }

    /**
     * [B, S, width] as [N, G, width], the sequence padded with zeros at its end to whole groups.
     */
    internal fun grouped(ops: Ops, x: Tensor): Tensor =
        with(ops) {
            val (batch, length, _) = x.shape
            val padded = (length + moe.group - 1) / moe.group * moe.group
            val full =
                if (padded == length) x
                else concat(listOf(x, zeros(listOf(batch, padded - length, width))), 1)
            reshape(full, listOf(batch * padded / moe.group, moe.group, width))
        }

    /** [N, G, last] back to [B, S, last], the padding at the end of each sequence dropped. */
    private fun ungrouped(ops: Ops, y: Tensor, batch: Int, length: Int, last: Int = width): Tensor =
        with(ops) {
            val padded = y.shape[0] * moe.group / batch
            val flat = reshape(y, listOf(batch, padded, last))
            if (padded == length) flat else slice(flat, 1, 0, length)
        }

    /** Router z-loss, per-expert load and the dropped share, over the positions that count. */
    private fun report(f: Forward, routing: Routing, batch: Int, length: Int) =
        with(f.ops) {
            val lse = logSumExp(routing.logits, -1, keepDim = true)
            f.average(
                "moe.zloss",
                f.positionMean(ungrouped(this, lse * lse, batch, length, 1)),
                moe.zLossWeight,
            )
            val chosen = ungrouped(this, routing.chosen, batch, length, routed)
            val kept = ungrouped(this, routing.kept(this), batch, length, routed)
            for (e in 0 until routed) {
                // Share of all top-k assignments that went to expert e: 1/E each when balanced.
                f.average(
                    "moe.load.e$e",
                    scale(f.positionMean(slice(chosen, 2, e, e + 1)), 1.0 / moe.topK),
                )
            }
            val keptShare = scale(f.positionMean(sum(kept, -1, keepDim = true)), 1.0 / moe.topK)
            f.average("moe.dropped", scale(keptShare, -1.0) + full(1.0, emptyList()))
        }

    /**
     * The routed experts' outputs for every token, [R, N, G, width]: what a dense reference runs.
     */
    internal fun everyExpert(f: Forward, grouped: Tensor): Tensor =
        with(f.ops) {
            val p = f.params
            val (groups, size, _) = grouped.shape
            val all =
                broadcastTo(
                    reshape(grouped, listOf(1, groups * size, width)),
                    listOf(routed, groups * size, width),
                )
            val out = matmul(silu(matmul(all, p[gate])) * matmul(all, p[up]), p[down])
            reshape(out, listOf(routed, groups, size, width))
        }

    /** The shared experts on [x]. */
    internal fun sharedOutput(f: Forward, x: Tensor): Tensor? =
        shared.map { it.apply(f.ops, f.params, x) }.reduceOrNull { a, b -> f.ops.add(a, b) }
}
