package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** How a block mixes information across positions. */
@Serializable public sealed interface Mixer

/** Causal self-attention (GQA when `kvHeads` < heads). */
@Serializable @SerialName("attention") public data object AttentionMixer : Mixer

/**
 * A Mamba-2 (SSD) mixer in pure ops: input projection, causal depthwise convolution, the selective
 * state-space scan in chunked matrix form, gated RMSNorm and output projection; one group of B/C
 * shared by all heads. With [attention], the block also runs causal attention after the SSM (the
 * hybrid that ssm_mem uses to read its memory tokens).
 */
@Serializable
@SerialName("ssm")
public data class SsmMixer(
    /** State size N per head. */
    val state: Int = 16,
    /** Channels per SSM head (P); `expand · width` must be a multiple of it. */
    val headSize: Int = 32,
    /** Inner width is `expand · width`. */
    val expand: Int = 2,
    /** Taps of the causal convolution before the scan. */
    val convKernel: Int = 4,
    /** Chunk length of the matrix form (the sequence is padded at its end to a multiple). */
    val chunk: Int = 16,
    val attention: Boolean = false,
) : Mixer

/**
 * Whether a block with this mixer runs causal attention (the ssm mixer only in its hybrid form).
 */
public val Mixer.hasAttention: Boolean
    get() = this == AttentionMixer || (this is SsmMixer && attention)

/**
 * A causal depthwise dilated convolution over the FFN's hidden activations, added residually (CRT's
 * ConvTRM). Left padding only: the seed's symmetric padding let positions see the future.
 */
@Serializable public data class FfnConv(val kernel: Int = 3, val dilation: Int = 1)

/**
 * A mixture-of-experts FFN (nano-osrt v4): [shared] always-active experts plus `experts - shared`
 * routed experts, of which each token uses [topK]. The router is a sigmoid over `[norm(h),
 * loopEmbedding[loop]]·W` (loop-aware, DeepSeek-V3 style), the selected scores normalised to sum to
 * one; its z-loss (`logsumexp(logits)²`) is added with [zLossWeight]. Dispatch has static shapes:
 * tokens are taken in groups of [group] positions, and each routed expert has `ceil(group · topK ·
 * capacityFactor / routed)` slots per group (every slot when [capacityFactor] is null: nothing is
 * dropped); a token routed to a full expert loses that expert. Slots fill in position order, so a
 * token is never displaced by a later one (causality holds).
 */
@Serializable
public data class Moe(
    /** All experts, shared ones included (osrt-v4: 12 = 1 shared + 11 routed). */
    val experts: Int,
    val topK: Int,
    val shared: Int = 1,
    /**
     * Expert SwiGLU hidden size; null means 2/3 of the width rounded up to 64 (osrt-v4: 1024 at
     * 1536).
     */
    val hidden: Int? = null,
    /** Keeps the dense FFN beside the MoE, mixed by learned gates; false replaces it. */
    val keepDense: Boolean = true,
    /** The router also sees a learned embedding of the loop index. */
    val loopAware: Boolean = true,
    val zLossWeight: Double = 1e-3,
    val capacityFactor: Double? = 1.25,
    val group: Int = 64,
) {
    /** Experts chosen by the router. */
    val routed: Int
        get() = experts - shared

    /** The expert hidden size actually built for a model of [width]. */
    public fun resolvedHidden(width: Int): Int = hidden ?: roundUp(2 * width / 3, 64)

    /** Slots per routed expert and dispatch group. */
    val capacity: Int
        get() =
            capacityFactor?.let {
                minOf(group, kotlin.math.ceil(group * topK * it / routed).toInt())
            } ?: group
}

/**
 * CRT's "TRM recursive reasoning" inside a block (after the Tiny Recursive Model): the block's FFN,
 * with its convolution when the block has one, becomes a small inner recurrence run [cycles] times
 * per block and loop with the same weights, its state `z` (one width-sized vector per position,
 * starting at zero) carried from cycle to cycle: `z ← z + ffn(norm(h + z))`, and the block adds the
 * final `z` to the stream `h`. Each cycle sees the block's input `h` again (TRM's re-injection of
 * the question); everything is per position except the causal convolution, so the block stays
 * causal. One cycle is the plain FFN.
 */
@Serializable public data class TrmCycles(val cycles: Int = 8)

/**
 * A rank-[rank] carry between passes (parameter golf): for the temporal-difference carry, the
 * change `Δ = x_i - x_(i-1)` of the stream between the starts of consecutive passes, added to pass
 * i as `Δ·A·B`; for the GRU carry, a [rank]-sized state per position updated from each pass's
 * output by a GRU cell and read into the next pass through a `rank × width` projection. The output
 * projections start at zero, so both carries start as no-ops. Everything is per position.
 */
@Serializable public data class LowRankCarry(val rank: Int = 16, val std: Double = 0.02)

/**
 * `x + scale·(x·A·B)` before each (block, loop), A ~ N(0, std²) and B = 0: a no-op at
 * initialisation.
 */
@Serializable
public data class Adapters(val rank: Int = 16, val scale: Double = 1.0, val std: Double = 0.01)

/**
 * Loop dropout: each training step draws its number of loops uniformly from [min]..loops; inference
 * runs the model's loops. A [max] above the loops trains the depths that depth extrapolation will
 * run: half the steps then draw from [min]..loops and half from loops + 1..[max], so the model
 * still answers within its own loops. With [backprop] = k, gradients flow through the last k loops
 * of a step only (truncated backpropagation, as in Geiping et al. 2025's recurrent-depth model):
 * the loops before enter as a fixed starting state, so a deep draw teaches the block to work on a
 * state iterated many times without a gradient path, and its per-loop and auxiliary losses, through
 * them.
 */
@Serializable
public data class RandomDepth(val min: Int, val max: Int? = null, val backprop: Int? = null)

/**
 * An auxiliary LM loss after every loop but the last, weighted by [weight] and averaged over those
 * loops.
 */
@Serializable public data class LoopLoss(val weight: Double = 0.1)

/**
 * Builds a [Recursion]. Block-level parts (mixer, MoE, convolution, low-rank keys) and loop-level
 * parts (adapters, injection, norms, skips, gates, dropout, losses) can only be declared here;
 * every default is the spec's own.
 */
@LooplabDsl
public class RecursionBuilder internal constructor(blocks: Int, loops: Int) {
    private var spec = Recursion(blocks, loops)

    /** Logs the RMS of the stream after every loop. */
    public var telemetry: Boolean
        get() = spec.telemetry
        set(value) {
            spec = spec.copy(telemetry = value)
        }

    /** A mixture of experts beside (or instead of) the dense FFN; see [Moe]. */
    public fun moe(
        experts: Int,
        topK: Int,
        shared: Int = MOE.shared,
        hidden: Int? = MOE.hidden,
        keepDense: Boolean = MOE.keepDense,
        loopAware: Boolean = MOE.loopAware,
        zLossWeight: Double = MOE.zLossWeight,
        capacityFactor: Double? = MOE.capacityFactor,
        group: Int = MOE.group,
    ) {
        spec =
            spec.copy(
                moe =
                    Moe(
                        experts,
                        topK,
                        shared,
                        hidden,
                        keepDense,
                        loopAware,
                        zLossWeight,
                        capacityFactor,
                        group,
                    )
            )
    }

    /** A causal depthwise convolution inside the FFN. */
    public fun conv(kernel: Int = CONV.kernel, dilation: Int = CONV.dilation) {
        spec = spec.copy(conv = FfnConv(kernel, dilation))
    }

    /**
     * Runs every block's FFN (and its [conv], if any) as [cycles] TRM cycles with a carried state;
     * see [TrmCycles]. `recursive(blocks = 1, loops = 8) { conv(kernel = 3); trm(cycles = 8) }` is
     * CRT's block.
     */
    public fun trm(cycles: Int = TRM.cycles) {
        spec = spec.copy(trm = TrmCycles(cycles))
    }

    /** Replaces attention by a Mamba-2 mixer (keeps it too when [attention]); see [SsmMixer]. */
    public fun ssm(
        state: Int = SSM.state,
        headSize: Int = SSM.headSize,
        expand: Int = SSM.expand,
        convKernel: Int = SSM.convKernel,
        chunk: Int = SSM.chunk,
        attention: Boolean = SSM.attention,
    ) {
        spec = spec.copy(mixer = SsmMixer(state, headSize, expand, convKernel, chunk, attention))
    }

    /** Keys through a rank-[rank] bottleneck. */
    public fun lowRankKeys(rank: Int) {
        spec = spec.copy(keyRank = rank)
    }

    /** Re-adds the embedding at the start of every loop after the first (input injection). */
    public fun inject() {
        spec = spec.copy(inject = true)
    }

    /** A residual adapter per (block, loop). */
    public fun adapters(
        rank: Int = ADAPTERS.rank,
        scale: Double = ADAPTERS.scale,
        std: Double = ADAPTERS.std,
    ) {
        spec = spec.copy(adapters = Adapters(rank, scale, std))
    }

    /** Learned attention scale, MLP scale and residual mix per (block, loop). */
    public fun passControls() {
        spec = spec.copy(passControls = true)
    }

    /** RMSNorm between loops. */
    public fun interLoopNorm() {
        spec = spec.copy(interLoopNorm = true)
    }

    /** U-Net skips across passes. */
    public fun unetSkips() {
        spec = spec.copy(skips = true)
    }

    /** A per-token exit gate per pass. */
    public fun exitGate() {
        spec = spec.copy(exitGate = true)
    }

    /**
     * Adds the change of the stream between passes, through rank [rank], to the next pass; see
     * [LowRankCarry].
     */
    public fun tdCarry(rank: Int = CARRY.rank, std: Double = CARRY.std) {
        spec = spec.copy(tdCarry = LowRankCarry(rank, std))
    }

    /** Carries a rank-[rank] GRU state from pass to pass; see [LowRankCarry]. */
    public fun gruCarry(rank: Int = CARRY.rank, std: Double = CARRY.std) {
        spec = spec.copy(gruCarry = LowRankCarry(rank, std))
    }

    /**
     * Confidence conditioning: every pass after the first adds `c·a_i + (1 - c)·b_i` to its input,
     * `c` the previous pass's exit-gate value at that position and `a_i`, `b_i` learned per pass
     * (starting at zero). Needs [exitGate].
     */
    public fun confidence() {
        spec = spec.copy(confidence = true)
    }

    /**
     * Trains with loops drawn from [min]..loops each step (half of the steps from above the loops
     * up to [max], when given), with gradients through the last [backprop] loops only when given;
     * see [RandomDepth].
     */
    @JvmOverloads
    public fun randomDepth(min: Int, max: Int? = null, backprop: Int? = null) {
        spec = spec.copy(randomDepth = RandomDepth(min, max, backprop))
    }

    /** An auxiliary LM loss after every loop but the last. */
    public fun loopLoss(weight: Double = LOOP_LOSS.weight) {
        spec = spec.copy(loopLoss = LoopLoss(weight))
    }

    internal fun build(): Recursion = spec

    private companion object {
        // The specs hold the defaults; the builder's parameters read them from there.
        val MOE = Moe(experts = 2, topK = 1)
        val CONV = FfnConv()
        val TRM = TrmCycles()
        val SSM = SsmMixer()
        val ADAPTERS = Adapters()
        val CARRY = LowRankCarry()
        val LOOP_LOSS = LoopLoss()
    }
}
