package looplab.models.decoder

import kotlin.math.sqrt
import looplab.dsl.ModelSpec
import looplab.dsl.SsmMixer
import looplab.dsl.hasAttention
import looplab.models.params.ParamRef
import looplab.models.params.ParamScope
import looplab.models.parts.Mamba2
import looplab.models.parts.MixtureOfExperts
import looplab.models.tensor.Tensor

/**
 * Standard deviation of the residual projections' initialisation: GPT-2 scales them by 1/√(2·depth)
 * so the stream's variance stays put however many layers (or loops) write into it.
 */
internal val ModelSpec.residualStd: Double
    get() = initStd / sqrt(2.0 * effectiveDepth)

/**
 * Per-(block, loop) control parameters: attention scale, MLP scale and the residual mix with the
 * embedding.
 */
internal class PassControl(scope: ParamScope, width: Int) {
    val attnScale: ParamRef = scope.control("attn_scale", listOf(width), 1.0)
    val mlpScale: ParamRef = scope.control("mlp_scale", listOf(width), 1.0)
    val mixStream: ParamRef = scope.control("mix_stream", listOf(width), 1.0)
    val mixEmbedding: ParamRef = scope.control("mix_embed", listOf(width), 0.0)
}

/**
 * Where a block is applied: its [name] (one per application, `loop2.block1` in the core: the key of
 * its decoding state), its loop (null outside the core), its controls, and the embedding to mix in.
 */
internal class BlockContext(
    val name: String,
    val loop: Int? = null,
    val control: PassControl? = null,
    val embedding: Tensor? = null,
)

/**
 * A pre-norm block: the sequence mixer(s) (attention, a Mamba-2 SSM, or the SSM then attention),
 * each `x + mixer(norm(x))`, then the FFN `x + ffn(norm(x))`. With a MoE beside the dense FFN both
 * read the same stream: `x + g_d·dense(norm(x)) + g_m·moe(norm_m(x))`. Per-pass controls, when
 * given, scale the mixer and FFN outputs and first mix the stream with the embedding; they start at
 * (1, 1, 1, 0), where the block computes exactly what it would without them. With TRM cycles the
 * dense FFN is run as a short recurrence (see [cycles]).
 */
internal class Block(scope: ParamScope, private val spec: ModelSpec, inLoop: Boolean) {
    private val residualStd = spec.residualStd
    private val recursion = spec.recursive
    private val ssmConfig = recursion.mixer as? SsmMixer
    private val ssmNorm = ssmConfig?.let { scope.gain("ssm_norm", spec.width) }
    private val ssm =
        ssmConfig?.let {
            Mamba2(scope.scope("ssm"), it, spec.width, spec.initStd, residualStd, spec.normEps)
        }
    private val hasAttention = recursion.mixer.hasAttention
    private val attnNorm = if (hasAttention) scope.gain("attn_norm", spec.width) else null
    private val attn = if (hasAttention) Attention(scope.scope("attn"), spec, residualStd) else null
    private val moeSpec = recursion.moe
    private val dense = moeSpec == null || moeSpec.keepDense
    private val mlpNorm = scope.gain("mlp_norm", spec.width)
    private val mlp =
        if (dense)
            SwiGlu(
                scope.scope("mlp"),
                spec.width,
                spec.resolvedFfnHidden,
                spec.initStd,
                residualStd,
                recursion.conv,
            )
        else null
    private val moeNorm = if (moeSpec != null && dense) scope.gain("moe_norm", spec.width) else null
    private val moe =
        moeSpec?.let {
            MixtureOfExperts(
                scope.scope("moe"),
                it,
                spec.width,
                spec.initStd,
                residualStd,
                if (inLoop && it.loopAware) recursion.loops else null,
            )
        }
    private val trmCycles = recursion.trm?.cycles ?: 1
    private val denseGate =
        if (moeSpec != null && dense) scope.control("gate_dense", listOf(1), 1.0) else null
    private val moeGate =
        if (moeSpec != null && dense) scope.control("gate_moe", listOf(1), 1.0) else null

    fun apply(f: Forward, input: Tensor, context: BlockContext): Tensor =
        with(f.ops) {
            val p = f.params
            val control = context.control
            fun scaled(y: Tensor, scale: ParamRef?) = if (scale == null) y else y * p[scale]
            var x = input
            if (control != null)
                x = x * p[control.mixStream] + context.embedding!! * p[control.mixEmbedding]
            if (ssm != null)
                x =
                    x +
                        scaled(
                            ssm.apply(
                                f,
                                rmsNorm(x, p[ssmNorm!!], spec.normEps),
                                "${context.name}.ssm",
                            ),
                            control?.attnScale,
                        )
            if (attn != null)
                x =
                    x +
                        scaled(
                            attn.apply(
                                f,
                                rmsNorm(x, p[attnNorm!!], spec.normEps),
                                "${context.name}.attn",
                            ),
                            control?.attnScale,
                        )
            val normed = rmsNorm(x, p[mlpNorm], spec.normEps)
            val ffn =
                when {
                    moe == null -> cycles(f, x, normed, "${context.name}.mlp")
                    mlp == null -> moe.apply(f, normed, context.loop, "${context.name}.moe")
                    else ->
                        mlp.apply(f, normed, "${context.name}.mlp") * p[denseGate!!] +
                            moe.apply(
                                f,
                                rmsNorm(x, p[moeNorm!!], spec.normEps),
                                context.loop,
                                "${context.name}.moe",
                            ) * p[moeGate!!]
                }
            x + scaled(ffn, control?.mlpScale)
        }

    /**
     * The dense FFN as TRM cycles: `z = ffn(norm(h))`, then `z ← z + ffn(norm(h + z))` for the
     * remaining cycles with the same weights (the state starts at zero, so the first cycle is the
     * plain FFN). With one cycle this is exactly the FFN. The state lives within this block and
     * loop only; nothing crosses positions except the FFN's causal convolution.
     */
    private fun cycles(f: Forward, h: Tensor, normed: Tensor, name: String): Tensor =
        with(f.ops) {
            val p = f.params
            // Each cycle's convolution (if any) keeps its own decoding window: cycle k reads cycle
            // k's hidden activations.
            var z = mlp!!.apply(f, normed, name)
            for (cycle in 1 until trmCycles) z =
                z + mlp.apply(f, rmsNorm(h + z, p[mlpNorm], spec.normEps), "$name.cycle$cycle")
            z
        }
}
