package looplab.models.cost

import looplab.dsl.ModelSpec

/**
 * What a model costs, computed from its spec alone (no tensors): the numbers a plan prints before
 * anything runs. Physical parameters are what is stored; effective parameters count a looped
 * block once per loop, which is what the compute sees.
 */
public data class ModelCost(
    val physicalParams: Long,
    val effectiveParams: Long,
    /** Parameters in matrices that every token multiplies through, counted once per loop (embedding lookup excluded, LM head included). */
    val matmulParamsPerToken: Long,
    /** Forward FLOPs per token at [contextLength]: 2 per multiply-add, plus attention over the whole context. */
    val forwardFlopsPerToken: Long,
    val contextLength: Int,
) {
    /** Forward plus backward: the usual 3× the forward. */
    val trainingFlopsPerToken: Long get() = 3 * forwardFlopsPerToken

    public companion object {
        /**
         * Counts for the decoder of [spec] with a [vocabSize] vocabulary. Attention is counted as
         * PaLM does: 2·2·T·width per layer and token for QKᵀ and AV over the full context T.
         */
        public fun of(spec: ModelSpec, vocabSize: Int, contextLength: Int = spec.contextLength): ModelCost {
            val w = spec.width.toLong()
            val f = spec.resolvedFfnHidden.toLong()
            val blockMatrices = 4 * w * w + 3 * w * f
            val blockParams = blockMatrices + 2 * w // two RMSNorm gains
            val embedding = vocabSize * w
            val finalNorm = w
            val blocks = spec.recursive.blocks.toLong()
            val applications = blocks * spec.recursive.loops
            val matmulPerToken = applications * blockMatrices + embedding // tied LM head
            val attention = applications * 4 * contextLength * w
            return ModelCost(
                physicalParams = embedding + blocks * blockParams + finalNorm,
                effectiveParams = embedding + applications * blockParams + finalNorm,
                matmulParamsPerToken = matmulPerToken,
                forwardFlopsPerToken = 2 * matmulPerToken + attention,
                contextLength = contextLength,
            )
        }
    }
}

/** A training-memory estimate in bytes, fp32 throughout, eager (every intermediate kept for backward). */
public data class MemoryEstimate(val weights: Long, val gradients: Long, val optimizerState: Long, val activations: Long) {
    val total: Long get() = weights + gradients + optimizerState + activations

    public companion object {
        /**
         * For a batch of [batch] sequences of [length] tokens. Activations per token and applied
         * block: about 10 width-sized and 3 FFN-sized vectors plus two H×T attention rows (scores and
         * weights); per token at the head: logits, log-probabilities and their gradient.
         */
        public fun of(spec: ModelSpec, vocabSize: Int, batch: Int, length: Int): MemoryEstimate {
            val params = ModelCost.of(spec, vocabSize, length).physicalParams
            val tokens = batch.toLong() * length
            val perBlock = 10L * spec.width + 3L * spec.resolvedFfnHidden + 2L * spec.heads * length
            val perToken = spec.effectiveDepth * perBlock + 3L * vocabSize
            return MemoryEstimate(
                weights = 4 * params,
                gradients = 4 * params,
                optimizerState = 8 * params, // AdamW's two moments
                activations = 4 * tokens * perToken,
            )
        }
    }
}
