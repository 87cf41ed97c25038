package looplab.models.cost

import looplab.dsl.LearnedPositions
import looplab.dsl.ModelSpec

/**
 * What a model costs, computed from its spec alone (no tensors): the numbers a plan prints before
 * anything runs. Physical parameters are what is stored; effective parameters count a looped
 * block once per loop (the unrolled network), which is what the compute sees.
 */
public data class ModelCost(
    val physicalParams: Long,
    val effectiveParams: Long,
    /** Multiply-adds per token through weights, each looped block once per loop (embedding lookup excluded, heads included). */
    val matmulParamsPerToken: Long,
    /** Forward FLOPs per token at [contextLength]: 2 per multiply-add, plus attention over the whole context and the SSD scan. */
    val forwardFlopsPerToken: Long,
    val contextLength: Int,
    /** Rows of the embedding table (the spec's vocabulary override, or the tokenizer's size). */
    val vocabRows: Int,
) {
    /** Forward plus backward: the usual 3× the forward. */
    val trainingFlopsPerToken: Long get() = 3 * forwardFlopsPerToken

    public companion object {
        /**
         * Counts for the decoder of [spec] with a [vocabSize]-token tokenizer. Attention is counted as
         * PaLM does: 2·2·T·width per attention layer and token for QKᵀ and AV over the full context T.
         * MoE layers count the work their static shapes do (every expert slot, dispatch and combine);
         * auxiliary heads and per-loop losses count their head products, since training computes them.
         * Memory tokens' extra positions are not counted.
         */
        public fun of(spec: ModelSpec, vocabSize: Int, contextLength: Int = spec.contextLength): ModelCost {
            val w = spec.width.toLong()
            val rows = spec.vocabSize ?: vocabSize
            val v = rows.toLong()
            val r = spec.recursive
            val loops = r.loops.toLong()
            val looped = BlockCost(spec, inLoop = true, contextLength)
            val outside = BlockCost(spec, inLoop = false, contextLength)
            val outsideBlocks = (spec.prelude + spec.coda).toLong()
            val kvWidth = spec.kvWidth.toLong()
            val f = spec.resolvedFfnHidden.toLong()

            var shared = v * w + w // embedding, final norm
            var perToken = v * w // the LM head (tied or not)
            var mixing = 0L
            if (!spec.embedding.tied) shared += w * v
            if (spec.positions == LearnedPositions) shared += spec.contextLength * w
            if (spec.embedding.valueEmbeddings) shared += v * kvWidth
            spec.embedding.refine?.let {
                shared += w + w * it.kernel + w * w
                perToken += it.cycles * (w * it.kernel + w * w)
            }
            spec.memory?.let { shared += it.tokens * w }
            r.adapters?.let {
                shared += loops * r.blocks * 2 * w * it.rank
                perToken += loops * r.blocks * 2 * w * it.rank
            }
            if (r.passControls) shared += loops * r.blocks * 4 * w
            if (r.interLoopNorm) shared += w
            if (r.skips) shared += loops / 2
            if (r.exitGate) {
                shared += loops * (w + 1)
                perToken += loops * w
            }
            shared += spec.auxHeads.size * w
            perToken += spec.auxHeads.size * v * w
            r.loopLoss?.let { perToken += (loops - 1) * v * w }
            spec.act?.let {
                shared += w + 1
                perToken += loops * w
            }
            spec.latent?.let {
                val z = it.thoughts.toLong()
                shared += z * w + 3 * w + 5 * w * w + 3 * w * f
                perToken += 2 * w * w + w * w + it.refinements * z * (2 * w * w + 3 * w * f)
                mixing += it.refinements * z * 4L * contextLength * w
            }
            val physical = shared + outsideBlocks * outside.params + r.blocks * looped.params
            val macs = perToken + outsideBlocks * outside.macsPerToken + loops * r.blocks * looped.macsPerToken
            mixing += outsideBlocks * outside.mixingFlopsPerToken + loops * r.blocks * looped.mixingFlopsPerToken
            return ModelCost(
                physicalParams = physical,
                effectiveParams = physical + (loops - 1) * r.blocks * looped.params,
                matmulParamsPerToken = macs,
                forwardFlopsPerToken = 2 * macs + mixing,
                contextLength = contextLength,
                vocabRows = rows,
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
         * weights), 3 expert-hidden vectors per expert slot with MoE, and the same again per thought
         * slot and refinement with latent thoughts; per token at each head: logits, log-probabilities
         * and their gradient. A rough guide, not a promise.
         */
        public fun of(spec: ModelSpec, vocabSize: Int, batch: Int, length: Int): MemoryEstimate {
            val cost = ModelCost.of(spec, vocabSize, length)
            val params = cost.physicalParams
            val tokens = batch.toLong() * length
            val r = spec.recursive
            val moe = r.moe?.let { 3L * it.resolvedHidden(spec.width) * it.routed * it.capacity / it.group + it.routed * it.capacity } ?: 0L
            val perBlock = 10L * spec.width + 3L * spec.resolvedFfnHidden + 2L * spec.heads * length + moe
            val latent = spec.latent?.let { it.thoughts.toLong() * it.refinements * perBlock } ?: 0L
            val heads = 1 + spec.auxHeads.size + (if (r.loopLoss != null) r.loops - 1 else 0)
            val perToken = spec.effectiveDepth * perBlock + latent + 3L * heads * cost.vocabRows
            return MemoryEstimate(
                weights = 4 * params,
                gradients = 4 * params,
                optimizerState = 8 * params, // AdamW's two moments
                activations = 4 * tokens * perToken,
            )
        }
    }
}
