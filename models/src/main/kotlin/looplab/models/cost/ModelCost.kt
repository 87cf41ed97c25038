package looplab.models.cost

import looplab.dsl.LearnedPositions
import looplab.dsl.ModelSpec

/**
 * What a model costs, computed from its spec alone (no tensors): the numbers a plan prints before
 * anything runs. Four parameter counts, with one convention (the README's zoo section states it
 * beside the seeds' figures):
 * - **physical**: what is stored.
 * - **effective**: the unrolled network of a training forward, every parameter counted once per
 *   use: a looped block once per loop, a TRM-cycled FFN once per cycle, a refinement step once per
 *   cycle, a carry or the inter-loop norm once per pass it acts in (the final norm once per head
 *   that reads it). The embedding table counts once, tied head or not.
 * - **active**: the physical parameters one token's inference forward uses, each counted once: a
 *   MoE counts its shared experts and `topK` of its routed ones (router and loop embeddings whole),
 *   as Mixtral and DeepSeek count "active"; the embedding table counts whole; after an early exit
 *   the loops not run, their per-loop parameters and (exiting through an auxiliary head) the coda,
 *   latent thoughts and final norm do not count; auxiliary heads other than the exit's are
 *   training-only.
 * - **active effective**: the same inference forward counted like effective, each use once: the
 *   expected compute of a token at inference, over [activeLoops] loops.
 */
public data class ModelCost(
    val physicalParams: Long,
    val effectiveParams: Long,
    /**
     * Multiply-adds per token through weights, each looped block once per loop (embedding lookup
     * excluded, heads included).
     */
    val matmulParamsPerToken: Long,
    /**
     * Forward FLOPs per token at [contextLength]: 2 per multiply-add, plus attention over the whole
     * context and the SSD scan.
     */
    val forwardFlopsPerToken: Long,
    val contextLength: Int,
    /** Rows of the embedding table (the spec's vocabulary override, or the tokenizer's size). */
    val vocabRows: Int,
    /** Physical parameters one token's inference forward uses (see the class comment). */
    val activeParams: Long,
    /** Parameters one token's inference forward applies, each use counted. */
    val activeEffectiveParams: Long,
    /**
     * Loops an inference forward runs: the early-exit loop, or every loop. With ACT this is the
     * most it can run (halting decides per position; the run's `act.loops` metric measures the
     * mean).
     */
    val activeLoops: Int,
) {
    /** Forward plus backward: the usual 3× the forward. */
    val trainingFlopsPerToken: Long
        get() = 3 * forwardFlopsPerToken

    public companion object {
        /**
         * Counts for the decoder of [spec] with a [vocabSize]-token tokenizer. Attention is counted
         * as PaLM does: 2·2·T·width per attention layer and token for QKᵀ and AV over the full
         * context T. MoE layers count the work their static shapes do (every expert slot, dispatch
         * and combine); auxiliary heads and per-loop losses count their head products, since
         * training computes them. Memory tokens' extra positions are not counted.
         */
        public fun of(
            spec: ModelSpec,
            vocabSize: Int,
            contextLength: Int = spec.contextLength,
        ): ModelCost {
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
            r.tdCarry?.let {
                shared += 2 * w * it.rank
                perToken += (loops - 1) * 2 * w * it.rank
            }
            r.gruCarry?.let {
                val rank = it.rank.toLong()
                shared += 4 * w * rank + 3 * rank * rank + 3 * rank
                perToken +=
                    (loops - 1) * 4 * w * rank + (loops - 2).coerceAtLeast(0) * 3 * rank * rank
            }
            if (r.confidence) shared += (loops - 1) * 2 * w
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
            val macs =
                perToken +
                    outsideBlocks * outside.macsPerToken +
                    loops * r.blocks * looped.macsPerToken
            mixing +=
                outsideBlocks * outside.mixingFlopsPerToken +
                    loops * r.blocks * looped.mixingFlopsPerToken
            val inferenceLoops = spec.earlyExit?.loop?.takeIf { it < r.loops } ?: r.loops
            val uses = Uses(spec, v, looped, outside)
            return ModelCost(
                physicalParams = physical,
                effectiveParams = uses.count(r.loops, inference = false, unrolled = true),
                matmulParamsPerToken = macs,
                forwardFlopsPerToken = 2 * macs + mixing,
                contextLength = contextLength,
                vocabRows = rows,
                activeParams = uses.count(inferenceLoops, inference = true, unrolled = false),
                activeEffectiveParams =
                    uses.count(inferenceLoops, inference = true, unrolled = true),
                activeLoops = inferenceLoops,
            )
        }
    }
}

/**
 * Counts the parameters a forward pass of [spec] uses when it runs a given number of loops: each
 * parameter once (active), or once per use (effective). See [ModelCost] for the convention.
 */
private class Uses(
    private val spec: ModelSpec,
    private val v: Long,
    private val looped: BlockCost,
    private val outside: BlockCost,
) {
    private var total = 0L
    private var unrolled = false

    /**
     * [params] used [times] times: counted once per use when unrolled, once when used at all
     * otherwise.
     */
    private fun add(params: Long, times: Long) {
        if (times > 0) total += if (unrolled) params * times else params
    }

    /**
     * [count] blocks of [cost] applied [times] times each, without the routed experts a token skips
     * at [inference].
     */
    private fun blocks(cost: BlockCost, count: Long, times: Long, inference: Boolean) {
        if (times == 0L) return
        val skipped = if (inference) cost.unroutedParams else 0L
        total +=
            count * if (unrolled) (cost.appliedParams - skipped) * times else cost.params - skipped
    }

    fun count(runs: Int, inference: Boolean, unrolled: Boolean): Long {
        total = 0L
        this.unrolled = unrolled
        val w = spec.width.toLong()
        val r = spec.recursive
        val loops = r.loops.toLong()
        val n = runs.toLong()
        // Exiting through an auxiliary head skips what comes after the core, and the final norm.
        val exitHead = inference && runs < r.loops && spec.auxHeads.any { it.loop == runs }
        val after = if (exitHead) 0L else 1L
        add(v * w, 1)
        if (!spec.embedding.tied) add(w * v, 1)
        if (spec.positions == LearnedPositions) add(spec.contextLength * w, 1)
        if (spec.embedding.valueEmbeddings) add(v * spec.kvWidth, 1)
        spec.memory?.let { add(it.tokens * w, 1) }
        spec.embedding.refine?.let { add(w + w * it.kernel + w * w, it.cycles.toLong()) }
        blocks(outside, spec.prelude.toLong(), 1, inference)
        blocks(looped, r.blocks.toLong(), n, inference)
        blocks(outside, spec.coda.toLong(), after, inference)
        // Per-loop parameters are unique to their loop: loops not run do not count.
        r.adapters?.let { total += n * r.blocks * 2 * w * it.rank }
        if (r.passControls) total += n * r.blocks * 4 * w
        if (r.exitGate) total += n * (w + 1)
        if (r.confidence) total += (n - 1) * 2 * w
        // Skip weight j joins pass loops - 1 - j.
        if (r.skips) total += (loops / 2 - maxOf(0L, loops - n)).coerceAtLeast(0)
        if (r.interLoopNorm) add(w, n - 1)
        r.tdCarry?.let { add(2 * w * it.rank, n - 1) }
        r.gruCarry?.let {
            val rank = it.rank.toLong()
            // A state update after every pass but the last run; the first starts from zero and
            // skips the state matrices.
            add(3 * w * rank + 3 * rank, n - 1)
            add(3 * rank * rank, n - 2)
            add(rank * w, n - 1)
        }
        spec.act?.let { add(w + 1, n) }
        total += if (inference) (if (exitHead) w else 0L) else spec.auxHeads.size * w
        // The final norm; a per-loop loss reads it again after every loop but the last.
        add(w, after + if (!inference && r.loopLoss != null) n - 1 else 0L)
        spec.latent
            ?.takeIf { after == 1L }
            ?.let {
                val f = spec.resolvedFfnHidden.toLong()
                add(it.thoughts * w + w + 3 * w * w, 1)
                add(2 * w + 2 * w * w + 3 * w * f, it.refinements.toLong())
            }
        return total
    }
}

/**
 * A training-memory estimate in bytes, fp32 throughout, eager (every intermediate kept for
 * backward).
 */
public data class MemoryEstimate(
    val weights: Long,
    val gradients: Long,
    val optimizerState: Long,
    val activations: Long,
) {
    val total: Long
        get() = weights + gradients + optimizerState + activations

    public companion object {
        /**
         * For a batch of [batch] sequences of [length] tokens. Activations per token and applied
         * block: about 10 width-sized and 3 FFN-sized vectors plus two H×T attention rows (scores
         * and weights), 3 expert-hidden vectors per expert slot with MoE, and the same again per
         * thought slot and refinement with latent thoughts; per token at each head: logits,
         * log-probabilities and their gradient. A rough guide, not a promise.
         */
        public fun of(spec: ModelSpec, vocabSize: Int, batch: Int, length: Int): MemoryEstimate {
            val cost = ModelCost.of(spec, vocabSize, length)
            val params = cost.physicalParams
            val tokens = batch.toLong() * length
            val r = spec.recursive
            val moe =
                r.moe?.let {
                    3L * it.resolvedHidden(spec.width) * it.routed * it.capacity / it.group +
                        it.routed * it.capacity
                } ?: 0L
            val perBlock =
                10L * spec.width + 3L * spec.resolvedFfnHidden + 2L * spec.heads * length + moe
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
