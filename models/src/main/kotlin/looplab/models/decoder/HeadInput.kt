package looplab.models.decoder

import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * What the LM head reads for one readout: the normed [hidden] state [B, T, W] (memory dropped) and
 * the head [weight] [W, V]. Inference takes [logits]; a loss goes through [loss], which hands both
 * to [Ops.linearCrossEntropy] so that a backend can compute head and loss in one op, without
 * keeping the [B, T, V] fp32 log-probabilities for backward.
 */
internal class HeadInput(val hidden: Tensor, val weight: Tensor) {
    fun logits(ops: Ops): Tensor = ops.linear(hidden, weight)

    /** Mean cross-entropy of [logits] against [targets] over the positions where [mask] is 1. */
    fun loss(ops: Ops, targets: Tensor, mask: Tensor): Tensor =
        ops.linearCrossEntropy(hidden, weight, targets, mask)
}
