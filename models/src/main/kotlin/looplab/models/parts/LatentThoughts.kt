package looplab.models.parts

import kotlin.math.sqrt
import looplab.dsl.Latent
import looplab.dsl.ModelSpec
import looplab.models.decoder.Forward
import looplab.models.decoder.SwiGlu
import looplab.models.decoder.remember
import looplab.models.params.ParamScope
import looplab.models.tensor.Tensor

/**
 * Latent thoughts, causal: each position t owns `thoughts` slots that start from shared learned
 * embeddings and are refined `refinements` times by one thought core (cross-attention from the
 * slots of t to the token stream at positions ≤ t, then a SwiGLU, both residual); then `h_t +=
 * W·mean(slots of t)`. W starts at zero, so the part is a no-op at initialisation.
 *
 * The seed's reference kept one set of thought tokens per sequence, let them attend to every
 * position and added their mean to every position, so position t saw tokens after t. Slots per
 * position with a causal cross-attention mask cannot. The cross-attention uses no rotary positions:
 * the causal mask already orders the stream, and the slots have no position of their own.
 */
internal class LatentThoughts(
    scope: ParamScope,
    private val spec: ModelSpec,
    private val latent: Latent,
    residualStd: Double,
) {
    private val width = spec.width
    private val heads = spec.heads
    private val headSize = spec.headSize
    private val slots = scope.table("thoughts", latent.thoughts, width, spec.initStd)
    private val queryNorm = scope.gain("query_norm", width)
    private val streamNorm = scope.gain("stream_norm", width)
    private val wq = scope.matrix("wq", width, width, spec.initStd)
    private val wk = scope.matrix("wk", width, width, spec.initStd)
    private val wv = scope.matrix("wv", width, width, spec.initStd)
    private val wo = scope.matrix("wo", width, width, residualStd)
    private val mlpNorm = scope.gain("mlp_norm", width)
    private val mlp =
        SwiGlu(scope.scope("mlp"), width, spec.resolvedFfnHidden, spec.initStd, residualStd)
    private val toToken = scope.zeros("to_token", listOf(width, width))

    fun apply(f: Forward, h: Tensor): Tensor =
        with(f.ops) {
            val p = f.params
            val (batch, time, _) = h.shape
            val count = latent.thoughts
            val stream = rmsNorm(h, p[streamNorm], spec.normEps)
            fun heads(y: Tensor) = transpose(reshape(y, listOf(batch, time, heads, headSize)), 1, 2)
            // Keys and values [B, H, S, D] of the stream positions the slots may read: the prompt's
            // own
            // (prefill or no cache), or every cached slot after a decoding step.
            val streamKeys = f.remember("latent.k", heads(linear(stream, p[wk])))
            val streamValues = f.remember("latent.v", heads(linear(stream, p[wv])))
            val reach = streamKeys.shape[2]
            // [B, H, 1, D, S] and [B, H, 1, S, D]: the 1 broadcasts over the slots.
            val keys =
                reshape(transpose(streamKeys, -1, -2), listOf(batch, heads, 1, headSize, reach))
            val values = reshape(streamValues, listOf(batch, heads, 1, reach, headSize))
            // Slot row t may read stream positions s ≤ t only: [T, 1, S], or a step's row mask [B,
            // 1, 1, 1, S].
            val mask =
                f.slots?.let { reshape(it.mask, listOf(batch, 1, 1, 1, reach)) }
                    ?: floats(
                        FloatArray(time * time) { i ->
                            if (i % time > i / time) Float.NEGATIVE_INFINITY else 0f
                        },
                        listOf(time, 1, time),
                    )
            var z =
                broadcastTo(
                    reshape(p[slots], listOf(1, 1, count, width)),
                    listOf(batch, time, count, width),
                )
            repeat(latent.refinements) {
                // [B, T, Z, W] -> [B, H, T, Z, D]
                val q =
                    transpose(
                        transpose(
                            reshape(
                                linear(rmsNorm(z, p[queryNorm], spec.normEps), p[wq]),
                                listOf(batch, time, count, heads, headSize),
                            ),
                            1,
                            3,
                        ),
                        2,
                        3,
                    )
                val weights =
                    softmax(scale(matmul(q, keys), 1.0 / sqrt(headSize.toDouble())) + mask, -1)
                val read =
                    reshape(
                        transpose(transpose(matmul(weights, values), 2, 3), 1, 3),
                        listOf(batch, time, count, width),
                    )
                z = z + linear(read, p[wo])
                z = z + mlp.apply(this, p, rmsNorm(z, p[mlpNorm], spec.normEps))
            }
            h + linear(mean(z, 2), p[toToken])
        }
}
