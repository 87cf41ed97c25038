package looplab.models

import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * A model whose inference may stop early by reading scalars between loops, outside any traced
 * program (ACT stops once every position has halted). The logits are those of
 * [LanguageModel.logits] at inference; only the work done differs.
 */
public interface AdaptiveInference {
    /** Inference logits [B, T, V]; [read] turns a scalar tensor into a host number. */
    public fun adaptiveLogits(
        ops: Ops,
        params: Params,
        tokens: Tensor,
        read: (Tensor) -> Double,
    ): Tensor
}
