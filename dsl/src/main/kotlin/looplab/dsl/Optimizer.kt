package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** The update rule of a training stage. */
@Serializable
public sealed interface OptimizerSpec {
    /**
     * Decoupled weight decay, applied to the parameters whose role decays (matrices and embeddings,
     * never gains); 0 turns it off. Every rule has one, so it is checked and read in one place.
     */
    public val weightDecay: Double
}

/**
 * AdamW (decoupled weight decay). Decay applies to matrices and embeddings only, never to norm
 * gains, which nanoGPT and most LLM recipes leave undecayed.
 */
@Serializable
@SerialName("adamw")
public data class AdamW(
    val beta1: Double = 0.9,
    val beta2: Double = 0.95,
    val eps: Double = 1e-8,
    override val weightDecay: Double = 0.1,
) : OptimizerSpec

/**
 * Lion: the update is the sign of an interpolation of the momentum and the gradient, so every entry
 * moves by exactly the learning rate. Use a learning rate 3-10× smaller than AdamW's and a weight
 * decay as many times larger (the default keeps lr·decay equal at a 10× smaller rate).
 */
@Serializable
@SerialName("lion")
public data class Lion(
    /** Interpolation of momentum and gradient for the update's sign. */
    val beta1: Double = 0.9,
    /**
     * Momentum decay (slower than [beta1]: the momentum remembers longer than the update looks).
     */
    val beta2: Double = 0.99,
    override val weightDecay: Double = 1.0,
) : OptimizerSpec

/**
 * Muon for the hidden 2-D matrices (momentum with Nesterov, orthogonalised by Newton-Schulz
 * iterations, scaled for the matrix's shape) and [adamw] for everything else: embeddings, head,
 * gains, controls, routers, adapters. The stage's schedule sets AdamW's rate; Muon's peaks at [lr]
 * and follows the same schedule.
 */
@Serializable
@SerialName("muon")
public data class Muon(
    /**
     * Muon's peak learning rate (the reference's 0.02; orthogonalised updates have unit spectral
     * scale).
     */
    val lr: Double = 0.02,
    val momentum: Double = 0.95,
    val nesterov: Boolean = true,
    /** Newton-Schulz iterations: 5 bring the singular values into about [0.5, 1.5]. */
    val steps: Int = 5,
    override val weightDecay: Double = 0.01,
    /** The optimizer of every parameter Muon does not update. */
    val adamw: AdamW = AdamW(),
) : OptimizerSpec
