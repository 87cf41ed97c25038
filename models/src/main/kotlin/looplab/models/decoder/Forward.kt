package looplab.models.decoder

import looplab.models.ModelOutput
import looplab.models.Pass
import looplab.models.decode.DecodeCache
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * What one forward pass carries besides the stream: the ops and weights, how it runs, and what its
 * parts report. Parts add auxiliary losses and metrics here; the decoder sums them into the loss.
 * When [mask] is null the pass only wants logits, and parts skip every auxiliary term.
 */
internal class Forward(
    val ops: Ops,
    val params: Params,
    val pass: Pass,
    /** [B, T] loss mask (1 where a target counts); null for a logits-only pass. */
    val mask: Tensor? = null,
    /** [B, T] target ids, with [mask]. */
    val targets: Tensor? = null,
    /**
     * Reads a scalar on the host. Only the adaptive inference path passes one (outside any traced
     * program): ACT uses it to stop once every position has halted.
     */
    val read: ((Tensor) -> Double)? = null,
    /** Internal tensors recorded by name for tests (ACT weights, say); null in real runs. */
    val probes: MutableMap<String, Tensor>? = null,
    /**
     * The decoding state this pass fills (a prefill) or continues from (a step); null for a plain
     * pass.
     */
    val cache: DecodeCache? = null,
    /**
     * [B, T] document ids of packed rows: attention stays within a document; null: plain causal
     * attention.
     */
    val segments: Tensor? = null,
) {
    /** A decoding step's slots and masks; null unless this pass is a step. */
    var slots: StepSlots? = null

    val wantsLoss: Boolean
        get() = mask != null

    /** Learned tokens at the front of the stream (memory), removed before any head. */
    var prefix: Int = 0

    /**
     * Position weights of the stream as it is now: [mask], with zeros in front for memory tokens.
     */
    var streamMask: Tensor? = mask

    /** RoPE base for this pass (NTK-scaled for long sequences); null when positions are learned. */
    var ropeBase: Double? = null

    /** Value-embedding rows for the stream ([B, S, kvWidth]), when the model has them. */
    var valueEmbedding: Tensor? = null

    /**
     * Loops the core actually ran (fewer than declared under early exit, random depth or halting).
     */
    var loopsRun: Int = 0

    /**
     * Loops to run instead of the spec's (inference only, early exit off): depth curves and
     * extrapolation.
     */
    var depth: Int? = null

    /**
     * Called with the stream after every loop, as the rest of the model would see it if the loop
     * ended there.
     */
    var onLoop: ((Tensor) -> Unit)? = null

    private val weighted = mutableListOf<Tensor>()
    private val metrics = LinkedHashMap<String, Tensor>()
    private val averaged = LinkedHashMap<String, Pair<Double, MutableList<Tensor>>>()

    /** Logs [value] (a scalar) as [name]. */
    fun metric(name: String, value: Tensor) {
        metrics[name] = value
    }

    /** Adds `weight · value` to the loss and logs [value] as [name]. */
    fun loss(name: String, value: Tensor, weight: Double) {
        metrics[name] = value
        weighted += ops.scale(value, weight)
    }

    /**
     * Collects one of several contributions (one per block and loop, say) to a term logged as the
     * mean of all of them; a non-zero [weight] also adds `weight · mean` to the loss.
     */
    fun average(name: String, value: Tensor, weight: Double = 0.0) {
        averaged.getOrPut(name) { weight to mutableListOf() }.second += value
    }

    /** [positionCount]'s value, and the [streamMask] it was computed for. */
    private var count: Pair<Tensor, Tensor>? = null

    /** The mean of a per-position tensor ([B, S] or [B, S, 1]) over the positions that count. */
    fun positionMean(x: Tensor): Tensor =
        with(ops) {
            val weights =
                streamMask ?: error("positionMean needs a loss mask: call it only when wantsLoss")
            val flat = reshape(x, weights.shape)
            sumAll(flat * weights) / positionCount(weights)
        }

    /** The positions that count under [weights], computed once per stream mask. */
    private fun positionCount(weights: Tensor): Tensor =
        with(ops) {
            count
                ?.takeIf { it.first === weights }
                ?.let {
                    return it.second
                }
            // A tiny epsilon instead of max(count, 1): a batch of padding alone gives 0, never NaN.
            (sumAll(weights) + full(1e-6, emptyList())).also { count = weights to it }
        }

    /** The model's output: [main] plus every weighted auxiliary term, with every metric. */
    fun finish(main: Tensor): ModelOutput =
        with(ops) {
            var total = main
            for ((name, entry) in averaged) {
                val (weight, values) = entry
                val mean = scale(values.reduce { a, b -> a + b }, 1.0 / values.size)
                metrics[name] = mean
                if (weight != 0.0) total = total + scale(mean, weight)
            }
            for (term in weighted) total = total + term
            if (metrics.isNotEmpty()) metrics["lm_loss"] = main
            ModelOutput(total, metrics.toMap())
        }
}
