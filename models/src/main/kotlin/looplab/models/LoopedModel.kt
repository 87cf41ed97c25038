package looplab.models

import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * A model whose core is a loop, read out loop by loop and run at depths other than the trained one.
 * Both are inference-only views of [LanguageModel.logits]: no training randomness, no early exit.
 */
public interface LoopedModel {
    /** The loops the model was built (and trained) to run. */
    public val trainedLoops: Int

    /**
     * Why the model cannot run more loops than [trainedLoops] (parameters that exist once per
     * trained loop), or null when it can.
     */
    public val extrapolationBlocker: String?

    /**
     * One pass of [loops] loops over [tokens] [B, T], read out after every loop through the rest of
     * the model (coda, latent thoughts, final norm and head): logits [B, T, V] per loop. The
     * readout after the last loop is the model's own logits at that depth.
     */
    public fun loopLogits(
        ops: Ops,
        params: Params,
        tokens: Tensor,
        loops: Int = trainedLoops,
    ): List<Tensor>

    /**
     * The logits of a pass that runs exactly [loops] loops (early exit below [trainedLoops],
     * extrapolation above).
     */
    public fun logitsAtDepth(ops: Ops, params: Params, tokens: Tensor, loops: Int): Tensor
}
