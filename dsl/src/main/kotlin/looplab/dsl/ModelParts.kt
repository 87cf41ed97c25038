package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** How the model knows where a token is. */
@Serializable public sealed interface Positions

/**
 * Rotary position embedding (GPT-NeoX layout) with base frequency [base]; larger bases suit longer
 * contexts (parameter golf used 500,000). With [ntk], the model is meant to read up to [ntkFactor]
 * times its context, and rotates at every length with the base scaled by `ntkFactor^(D/(D-2))`
 * (NTK-aware scaling, D the head size). The scaling is a fixed property of the model, decided here:
 * scaling by the length of the sequence at hand would make a position's logits depend on how many
 * tokens follow it, which is a look at the future and breaks cached decoding.
 */
@Serializable
@SerialName("rope")
public data class Rope(
    val base: Double = 10_000.0,
    val ntk: Boolean = false,
    val ntkFactor: Double = 4.0,
) : Positions {
    /** The base the model rotates with, at every length. */
    public fun effectiveBase(headSize: Int): Double {
        if (!ntk) return base
        val d = headSize.toDouble()
        return base * Math.pow(ntkFactor, d / (d - 2))
    }
}

/**
 * A learned absolute position table with one row per position of the context (seed 001's
 * `nano_baseline` control). It cannot represent positions beyond the context: the planner asks for
 * a context that covers evaluation, and rows past the training lengths stay untrained, which is
 * exactly what the control tests.
 */
@Serializable @SerialName("learned") public data object LearnedPositions : Positions

/**
 * No position signal at all (NoPE): the causal mask alone orders the tokens, which a decoder can
 * still read positions from. Kazemnejad et al. (2023) found it length-generalising better than RoPE
 * or absolute positions on algorithmic tasks; a candidate for looped recipes that must run past
 * their training lengths.
 */
@Serializable @SerialName("none") public data object NoPositions : Positions

/** How the token embedding is initialised. */
@Serializable
public enum class EmbeddingInit {
    /** Normal(0, initStd²), like every matrix. */
    Normal,

    /** Normal with std 0.1/√width (parameter golf's "spectral" initialisation). */
    Spectral,
}

/** The embedding table and what is built around it. */
@Serializable
public data class EmbeddingSpec(
    /** The LM head reuses the embedding table (transposed); false adds a separate head matrix. */
    val tied: Boolean = true,
    val init: EmbeddingInit = EmbeddingInit.Normal,
    /**
     * One extra table of key/value width whose rows are added to every attention's values, gated
     * per block.
     */
    val valueEmbeddings: Boolean = false,
    /**
     * Convolutional refinement of the embeddings before the loop (CRT's "TRM-refined embeddings").
     */
    val refine: ConvRefine? = null,
)

/**
 * `cycles` applications of one shared step `e + W·silu(conv(norm(e)))`, with a causal depthwise
 * convolution of [kernel] taps and [dilation]: the embedding of t mixes in tokens before t only.
 */
@Serializable
public data class ConvRefine(val cycles: Int = 3, val kernel: Int = 3, val dilation: Int = 1)

/**
 * Latent thoughts (seed 001's `latent`), made causal: each position owns [thoughts] slots that
 * start from learned embeddings, are refined [refinements] times by a shared thought core
 * (cross-attention to the token stream at positions ≤ t, then a SwiGLU), and are injected back as
 * `h_t + W·mean(slots_t)`. The seed's reference let shared thought tokens read every position and
 * added their mean everywhere, which shows the future to the past.
 */
@Serializable public data class Latent(val thoughts: Int = 4, val refinements: Int = 2)

/**
 * Adaptive computation time per position over the loops (at most `recursive.loops`): a halting
 * probability after every loop, cumulative halting `c += (1 - c)·p` until [threshold], the halting
 * loop weighted by the remainder `1 - c`, and the ponder cost (loops used + remainder) added to the
 * loss with [ponderWeight]. Each position halts on its own state, so the model stays causal (the
 * seed's reference halted a whole sequence on the mean of its thought tokens).
 */
@Serializable public data class Act(val threshold: Double = 0.99, val ponderWeight: Double = 0.01)

/**
 * [tokens] learned vectors placed before the sequence (ssm_mem): every layer processes them first,
 * and every position can attend to them. Placed before position 0 they can read nothing of the
 * sequence, so they never carry the future into the past (the seed's memory tokens read the whole
 * sequence and were then read by every token).
 */
@Serializable public data class MemoryTokens(val tokens: Int = 8)

/**
 * An auxiliary prediction head after [loop] (1-based): its own RMSNorm, the tied head, loss weight
 * [weight].
 */
@Serializable public data class AuxHead(val loop: Int, val weight: Double = 0.3)

/**
 * At inference, stop after [loop] (1-based): with an auxiliary head at that loop, predict through
 * it; otherwise through the coda and the final head. Training always runs every loop.
 */
@Serializable public data class EarlyExit(val loop: Int)
