package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** The update rule of a training stage. */
@Serializable
public sealed interface OptimizerSpec

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
    val weightDecay: Double = 0.1,
) : OptimizerSpec
