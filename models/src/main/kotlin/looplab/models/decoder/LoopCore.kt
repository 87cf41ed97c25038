package looplab.models.decoder

import kotlin.random.Random
import looplab.dsl.ModelSpec
import looplab.models.Pass
import looplab.models.params.ParamRef
import looplab.models.params.ParamScope
import looplab.models.tensor.Tensor

/**
 * The LM head's input for a stream after the RMSNorm [norm] (memory stripped): logits at inference,
 * the loss in one op when training.
 */
internal typealias Head = (f: Forward, stream: Tensor, norm: ParamRef) -> HeadInput

/**
 * The core's result: the stream after the loop, and the norm of the auxiliary head to predict
 * through when it exited early.
 */
internal class CoreResult(val stream: Tensor, val exitHead: ParamRef?)

/**
 * The looped core: `blocks` unique blocks applied `loops` times, with the loop-level parts of the
 * spec around each pass (injection, U-Net skips, carries, adapters, controls, exit gates,
 * inter-loop norm), observations after each pass (loop-RMS telemetry, auxiliary heads, per-loop
 * losses), and either a fixed depth (possibly drawn for the step, or cut short by early exit) or
 * adaptive halting.
 */
internal class LoopCore(root: ParamScope, private val spec: ModelSpec) {
    private val r = spec.recursive
    private val blocks = List(r.blocks) { Block(root.scope("blocks.$it"), spec, inLoop = true) }
    private val adapters =
        r.adapters?.let { config ->
            List(r.loops) { loop ->
                List(r.blocks) { block ->
                    Adapter(root.scope("adapters.loop$loop.block$block"), spec.width, config)
                }
            }
        }
    private val controls =
        if (r.passControls) {
            List(r.loops) { loop ->
                List(r.blocks) { block ->
                    PassControl(root.scope("controls.loop$loop.block$block"), spec.width)
                }
            }
        } else null
    private val interLoopNorm =
        if (r.interLoopNorm) root.gain("inter_loop_norm", spec.width) else null
    private val skipWeights =
        if (r.skips) List(r.loops / 2) { root.control("skips.$it", listOf(1), 1.0) }
        else emptyList()
    private val exitGates =
        if (r.exitGate) List(r.loops) { ExitGate(root.scope("exit_gate.loop$it"), spec.width) }
        else null
    private val auxNorms: Map<Int, ParamRef> =
        spec.auxHeads.associate {
            it.loop to root.gain("aux_heads.loop${it.loop}.norm", spec.width)
        }
    private val halting = spec.act?.let { HaltingUnit(root.scope("halt"), spec.width, it) }
    private val carries = PassCarries(root, spec)

    /**
     * Parts that exist once per trained loop, so that more loops than trained cannot run; null when
     * none.
     */
    val perLoopParts: String? = r.perLoopParts.takeIf { it.isNotEmpty() }?.joinToString(", ")

    /**
     * Runs the loop on [start]; [embedding] is the stream that entered the core (for injection and
     * mixing).
     */
    fun apply(
        f: Forward,
        start: Tensor,
        embedding: Tensor,
        head: Head,
        finalNorm: ParamRef,
    ): CoreResult {
        val loops = f.depth ?: depth(f.pass)
        return if (halting != null) adaptive(f, start, embedding, loops, head, finalNorm)
        else fixed(f, start, embedding, loops, head, finalNorm)
    }

    /**
     * Loops this pass runs: all of them, or during training with random depth a number drawn on the
     * host from (seed, step), so a step is reproducible and a compiled backend sees a plain shape.
     * With a max above the model's loops, half the steps draw from min..loops and half from the
     * depths above (all of them when min is above the loops): deep draws alone would leave a model
     * no reason to answer within its own loops.
     */
    fun depth(pass: Pass): Int {
        val random = r.randomDepth ?: return r.loops
        if (!pass.training) return r.loops
        val draw = Random(pass.seed * 0x5DEECE66DL + pass.step * 0x9E3779B97F4AL + 11)
        val max = random.max ?: r.loops
        val deep = max > r.loops && (random.min > r.loops || !draw.nextBoolean())
        return if (deep) draw.nextInt(maxOf(random.min, r.loops + 1), max + 1)
        else draw.nextInt(random.min, r.loops + 1)
    }

    private fun fixed(
        f: Forward,
        start: Tensor,
        embedding: Tensor,
        loops: Int,
        head: Head,
        finalNorm: ParamRef,
    ): CoreResult =
        with(f.ops) {
            val exitAt =
                if (!f.pass.training && f.depth == null && f.onLoop == null)
                    spec.earlyExit?.loop?.takeIf { it < loops }
                else null
            val stored = arrayOfNulls<Tensor>(loops / 2)
            val carry = carriedState()
            // Truncated backpropagation: the loops before [tracked] hand on a detached state.
            val tracked =
                r.randomDepth?.backprop?.takeIf { f.pass.training }?.let { maxOf(0, loops - it) }
                    ?: 0
            var x = start
            for (loop in 0 until loops) {
                val y = pass(f, x, loop, loops, embedding, stored, carry, runs = exitAt ?: loops)
                observe(f, y, loop, loops, head, finalNorm, losses = loop >= tracked)
                f.onLoop?.invoke(y)
                f.loopsRun = loop + 1
                if (exitAt == loop + 1) return CoreResult(y, auxNorms[exitAt])
                x =
                    if (interLoopNorm != null && loop < loops - 1)
                        rmsNorm(y, f.params[interLoopNorm], spec.normEps)
                    else y
                if (loop == tracked - 1) x = detach(x)
            }
            CoreResult(x, null)
        }

    /**
     * Adaptive computation per position. After each loop n, `p = halt(y_n)`, `c' = c + (1 - c)·p`;
     * a running position halts when `c' ≥ threshold` (or at the last loop). Loop n weighs `(1 -
     * c)·p` while running and the remainder `1 - c` when halting, so the weights of a position sum
     * to one; the output is `Σ w_n·y_n`. A halted position's stream is frozen, so loops after every
     * position halted change nothing: the inference path (with [Forward.read]) stops there, and
     * gives what running every loop would. The ponder cost (loops used + remainder) enters the loss
     * with the spec's weight.
     */
    private fun adaptive(
        f: Forward,
        start: Tensor,
        embedding: Tensor,
        loops: Int,
        head: Head,
        finalNorm: ParamRef,
    ): CoreResult =
        with(f.ops) {
            val unit = halting!!
            val p = f.params
            val (batch, length, _) = start.shape
            fun filled(value: Double) = full(value, listOf(batch, length, 1))
            val one = full(1.0, emptyList())
            val threshold = full(unit.act.threshold, emptyList())
            var halted = filled(0.0)
            var running = filled(1.0)
            var used = filled(0.0)
            var remainder = filled(0.0)
            var output: Tensor? = null
            val stored = arrayOfNulls<Tensor>(loops / 2)
            val carry = carriedState()
            var x = start
            for (loop in 0 until loops) {
                val y = pass(f, x, loop, loops, embedding, stored, carry, runs = loops)
                observe(f, y, loop, loops, head, finalNorm, losses = true)
                val chance = unit.probability(this, p, y)
                val next = halted + (one - halted) * chance
                val halts = if (loop == loops - 1) filled(1.0) else greaterEqual(next, threshold)
                val left = one - halted
                val weight = running * left * (halts + (one - halts) * chance)
                f.probes?.put("act.weight.$loop", weight)
                // Read out as if every position still running halted here: what a pass of loop + 1
                // loops outputs.
                f.onLoop?.let { readout ->
                    (y * (running * left)).let { last ->
                        readout(output?.let { it + last } ?: last)
                    }
                }
                output = output?.let { it + y * weight } ?: (y * weight)
                used = used + running
                remainder = remainder + running * halts * left
                val carried =
                    if (interLoopNorm != null && loop < loops - 1)
                        rmsNorm(y, p[interLoopNorm], spec.normEps)
                    else y
                x = x + running * (carried - x)
                running = running * (one - halts)
                halted = next
                f.loopsRun = loop + 1
                val read = f.read
                if (read != null && loop < loops - 1 && read(sumAll(running)) == 0.0) break
            }
            if (f.wantsLoss) {
                f.loss("act.ponder", f.positionMean(used + remainder), unit.act.ponderWeight)
                f.metric("act.loops", f.positionMean(used))
            }
            CoreResult(output!!, null)
        }

    /** Fresh carried state for one forward pass, when the model has carries between passes. */
    private fun carriedState(): PassCarries.State? = if (carries.any) carries.State() else null

    /**
     * One pass: injection, U-Net skip, the carries from earlier passes (TD, GRU, confidence), then
     * each block behind its adapter, under the pass's exit gate. [runs] is how many passes this
     * forward runs (fewer than [loops] after an early exit): the last one leaves no carry behind.
     */
    private fun pass(
        f: Forward,
        x: Tensor,
        loop: Int,
        loops: Int,
        embedding: Tensor,
        stored: Array<Tensor?>,
        carry: PassCarries.State?,
        runs: Int,
    ): Tensor =
        with(f.ops) {
            val p = f.params
            var h = x
            if (r.inject && loop > 0) h = h + embedding
            val partner = loops - 1 - loop
            if (r.skips && partner < loop && partner < loops / 2)
                h = h + stored[partner]!! * p[skipWeights[partner]]
            if (carry != null) h = carry.enter(this, p, h, x, loop)
            for ((b, block) in blocks.withIndex()) {
                adapters?.let { h = it[loop][b].apply(this, p, h) }
                h =
                    block.apply(
                        f,
                        h,
                        BlockContext(
                            "loop$loop.block$b",
                            loop,
                            controls?.get(loop)?.get(b),
                            embedding,
                        ),
                    )
            }
            exitGates?.let { gates ->
                val open = gates[loop].open(this, p, x)
                if (f.wantsLoss) f.metric("exit_gate.loop${loop + 1}", f.positionMean(open))
                carry?.confidence = open
                h = x + open * (h - x)
            }
            if (loop < runs - 1) carry?.leave(this, p, x, h)
            if (r.skips && loop < loops / 2) stored[loop] = h
            h
        }

    /**
     * Telemetry and (unless [losses] is false: a loop before truncated backpropagation's boundary)
     * auxiliary losses after loop [loop] (0-based); nothing when only logits are wanted.
     */
    private fun observe(
        f: Forward,
        y: Tensor,
        loop: Int,
        loops: Int,
        head: Head,
        finalNorm: ParamRef,
        losses: Boolean,
    ) =
        with(f.ops) {
            f.probes?.put("loop.$loop", y)
            if (!f.wantsLoss) return@with
            if (r.telemetry && r.loops > 1)
                f.metric(
                    "loop_rms.${loop + 1}",
                    sqrt(f.positionMean(mean(y * y, -1, keepDim = true))),
                )
            if (!losses) return@with
            auxNorms[loop + 1]?.let { norm ->
                val weight = spec.auxHeads.first { it.loop == loop + 1 }.weight
                f.loss(
                    "aux.loop${loop + 1}",
                    head(f, y, norm).loss(this, f.targets!!, f.mask!!),
                    weight,
                )
            }
            r.loopLoss?.let { loopLoss ->
                if (loop < loops - 1)
                    f.average(
                        "loop_loss",
                        head(f, y, finalNorm).loss(this, f.targets!!, f.mask!!),
                        loopLoss.weight,
                    )
            }
        }
}
