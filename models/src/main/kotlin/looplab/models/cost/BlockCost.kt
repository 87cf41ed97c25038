package looplab.models.cost

import kotlin.math.ceil
import looplab.dsl.ModelSpec
import looplab.dsl.SsmMixer
import looplab.dsl.hasAttention

/**
 * Parameters and per-token multiply-adds of one block of [spec], counted from the spec alone (no
 * model is built): the plan's numbers, and an independent check of the built model's. [inLoop]
 * blocks have a loop-aware router when the MoE asks for one.
 */
internal class BlockCost(spec: ModelSpec, inLoop: Boolean, contextLength: Int) {
    /** Parameters stored. */
    val params: Long

    /**
     * Multiply-adds per token through the block's matrices (and convolutions, and MoE dispatch).
     */
    val macsPerToken: Long

    /**
     * FLOPs per token that are not matrix-by-weight products: attention scores and the SSD scan.
     */
    val mixingFlopsPerToken: Long

    /**
     * Parameters one application of the block applies, each use counted: [params] plus, with TRM
     * cycles, the FFN (its norm, matrices and convolution) once more per cycle after the first.
     */
    val appliedParams: Long

    /**
     * Routed-expert parameters a token does not use: the `routed - topK` experts its router does
     * not pick.
     */
    val unroutedParams: Long

    init {
        val w = spec.width.toLong()
        val r = spec.recursive
        val kvWidth = spec.kvWidth.toLong()
        var params = w // mlp_norm
        var macs = 0L
        var mixing = 0L
        val ssm = r.mixer as? SsmMixer
        if (ssm != null) {
            val inner = ssm.expand * w
            val heads = inner / ssm.headSize
            val state = ssm.state.toLong()
            val inProjection = w * (2 * inner + 2 * state + heads)
            val conv = (inner + 2 * state) * ssm.convKernel
            params += w + inProjection + conv + 3 * heads + inner + inner * w
            macs += inProjection + conv + inner * w
            // Chunked SSD per token: C·Bᵀ over the chunk, the masked product with x, the chunk
            // state and its read-out.
            val chunk = ssm.chunk.toLong()
            mixing +=
                2 * (chunk * state + heads * (chunk * ssm.headSize + 2L * ssm.headSize * state))
        }
        if (r.mixer.hasAttention) {
            val keys = r.keyRank?.let { w * it + it * kvWidth } ?: (w * kvWidth)
            val matrices = 2 * w * w + keys + w * kvWidth
            params += w + matrices + if (spec.embedding.valueEmbeddings) 1 else 0
            macs += matrices
            // QKᵀ and AV over the context (PaLM's count), or over the sliding window
            val reach = spec.attentionWindow?.coerceAtMost(contextLength) ?: contextLength
            mixing += 4L * reach * w
        }
        val moe = r.moe
        val f = spec.resolvedFfnHidden.toLong()
        var reused = 0L
        var unrouted = 0L
        if (moe == null || moe.keepDense) {
            val conv = r.conv?.let { f * it.kernel } ?: 0
            val cycles = r.trm?.cycles?.toLong() ?: 1L
            params += 3 * w * f + conv
            macs += cycles * (3 * w * f + conv)
            reused = (cycles - 1) * (w + 3 * w * f + conv)
        }
        if (moe != null) {
            val hidden = moe.resolvedHidden(spec.width).toLong()
            val routed = moe.routed.toLong()
            val loopAware = inLoop && moe.loopAware
            val router = (if (loopAware) 2 * w else w) * routed
            val expert = 3 * w * hidden
            params += router + (if (loopAware) r.loops * w else 0) + (moe.shared + routed) * expert
            if (moe.keepDense) params += w + 2 // moe_norm, gate_dense, gate_moe
            // Static dispatch: every slot of every routed expert is computed, filled or not, plus
            // the
            // one-hot dispatch and combine products.
            val slotsPerToken = routed * moe.capacity / moe.group.toDouble()
            macs +=
                router +
                    moe.shared * expert +
                    ceil(slotsPerToken * expert).toLong() +
                    2 * routed * moe.capacity * w
            unrouted = (routed - moe.topK) * expert
        }
        this.params = params
        appliedParams = params + reused
        unroutedParams = unrouted
        macsPerToken = macs
        mixingFlopsPerToken = mixing
    }
}
