package looplab.dsl

import kotlinx.serialization.Serializable

/**
 * What a parameter does in its model, declared where the parameter is declared. Optimizers group
 * parameters by role: weight decay applies to [Matrix] only, Muon updates the 2-D [Matrix]
 * parameters and AdamW the rest, and a stage may give each role its own learning-rate multiplier.
 */
@Serializable
public enum class ParamRole {
    /** A hidden weight matrix (projections, FFN, MoE experts). */
    Matrix,

    /** A lookup table: token, position, value or memory embeddings. */
    Embedding,

    /** The output projection to the vocabulary (when not tied to the embedding). */
    Head,

    /** Norm gains and biases. */
    Gain,

    /**
     * Learned scalars and small vectors that steer the computation: gates, mixing weights, step
     * sizes.
     */
    Control,

    /** Low-rank adapters (loop adapters now, fine-tuning adapters later). */
    Adapter,

    /** An MoE router's weights (kept in fp32 and off Muon: routing is sensitive to their scale). */
    Router;

    /** Whether weight decay applies. */
    public val decays: Boolean
        get() = this == Matrix

    public companion object {
        /**
         * The role a parameter declared without one gets, from its dotted [name] and [shape]: names
         * containing `router`, `adapter`, `head` or `embed` say so; otherwise a tensor of two or
         * more dimensions is a [Matrix], a vector or scalar a [Control].
         */
        public fun infer(name: String, shape: List<Int>): ParamRole {
            val leaf = name.lowercase()
            return when {
                "router" in leaf -> Router
                "adapter" in leaf -> Adapter
                leaf.substringAfterLast('.') == "head" || "lm_head" in leaf -> Head
                "embed" in leaf -> Embedding
                shape.size >= 2 -> Matrix
                else -> Control
            }
        }
    }
}
