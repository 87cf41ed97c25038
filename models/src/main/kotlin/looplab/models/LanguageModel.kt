package looplab.models

import looplab.models.params.ParamRegistry
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * A causal language model in the functional style: [parameters] declares what it needs, and
 * [logits] / [loss] compute with whatever values a backend passes in. It holds no tensors itself.
 */
public interface LanguageModel {
    public val vocabSize: Int
    public val parameters: ParamRegistry

    /** Next-token logits [B, T, V] for [tokens] [B, T]. */
    public fun logits(ops: Ops, params: Params, tokens: Tensor, pass: Pass = Pass.Inference): Tensor

    /**
     * The training objective for predicting [targets] from [inputs] (both [B, T]), counting only
     * positions where [mask] is 1. Models with auxiliary terms add them here and report each one in
     * [ModelOutput.metrics].
     */
    public fun loss(
        ops: Ops,
        params: Params,
        inputs: Tensor,
        targets: Tensor,
        mask: Tensor,
        pass: Pass = Pass.Inference,
    ): ModelOutput = ModelOutput(ops.crossEntropy(logits(ops, params, inputs, pass), targets, mask))
}

/**
 * How a forward pass runs. Anything a model decides per pass (dropping loops, drawing a depth)
 * comes from here, on the host, never from tensor values: a compiled backend traces one program per
 * distinct decision.
 */
public data class Pass(
    val training: Boolean,
    /** The optimizer step this pass belongs to (0 at inference). */
    val step: Long = 0,
    /** The experiment seed; with [step] it seeds per-pass randomness reproducibly. */
    val seed: Long = 0,
) {
    public companion object {
        /** Evaluation and generation: no training-time randomness. */
        public val Inference: Pass = Pass(training = false)
    }
}

/** The loss to minimise and named scalar tensors to log beside it. */
public class ModelOutput(
    public val loss: Tensor,
    public val metrics: Map<String, Tensor> = emptyMap(),
)
