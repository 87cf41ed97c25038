package looplab.models

import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * A model that can run rows packing several documents (conversations) with a document-causal mask:
 * a position attends to earlier positions of its own document only, so each document's logits are
 * what they would be with the other documents changed in any way.
 *
 * RoPE positions do not restart per document: attention scores under RoPE depend only on the
 * distance between query and key, and within a document those distances are the same wherever it
 * sits in the row, so a restart would change nothing but rounding. Models with learned absolute
 * positions (where it would matter), or with any mixing besides attention, refuse packed rows.
 */
public interface PackedSequences {
    /**
     * Logits [B, T, V] of [tokens] [B, T], where [segments] ([B, T] ids from `ops.tokens`) numbers
     * each position's document.
     */
    public fun packedLogits(
        ops: Ops,
        params: Params,
        tokens: Tensor,
        segments: Tensor,
        pass: Pass = Pass.Inference,
    ): Tensor

    /** [LanguageModel.loss] on packed rows. */
    public fun packedLoss(
        ops: Ops,
        params: Params,
        inputs: Tensor,
        targets: Tensor,
        mask: Tensor,
        segments: Tensor,
        pass: Pass = Pass.Inference,
    ): ModelOutput
}
