package looplab.models.decoder

import looplab.dsl.EmbeddingInit
import looplab.dsl.LearnedPositions
import looplab.dsl.ModelSpec
import looplab.dsl.Rope
import looplab.models.AdaptiveInference
import looplab.models.LanguageModel
import looplab.models.ModelOutput
import looplab.models.Pass
import looplab.models.params.ParamRef
import looplab.models.params.ParamRegistry
import looplab.models.params.Params
import looplab.models.parts.ConvRefineStep
import looplab.models.parts.LatentThoughts
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor
import kotlin.math.sqrt

/**
 * The decoder of every variant. In order: token embedding (plus a learned position table for the
 * absolute-position control), convolutional refinement, memory tokens in front, prelude blocks, the
 * looped core ([LoopCore]), coda blocks, latent thoughts, then the final RMSNorm and the LM head
 * (tied to the embedding unless the spec unties it). `recursive(blocks = L, loops = 1)` with no
 * parts is the standard transformer.
 *
 * [logits] is the traced forward: it never reads a tensor value. [adaptiveLogits] is the host-driven
 * inference path: for ACT it reads, after each loop, whether any position still runs, and stops
 * when none does; its logits equal [logits]'s.
 */
public class RecursiveDecoder(public val spec: ModelSpec, override val vocabSize: Int) : LanguageModel, AdaptiveInference {
    override val parameters: ParamRegistry = ParamRegistry()
    private val root = parameters.scope("")
    private val embedding = root.table("embed", vocabSize, spec.width, if (spec.embedding.init == EmbeddingInit.Spectral) 0.1 / sqrt(spec.width.toDouble()) else spec.initStd)
    private val positionTable = if (spec.positions == LearnedPositions) root.table("positions", spec.contextLength, spec.width, spec.initStd) else null
    private val valueTable = if (spec.embedding.valueEmbeddings) root.table("value_embed", vocabSize, spec.kvWidth, spec.initStd) else null
    private val refine = spec.embedding.refine?.let { ConvRefineStep(root.scope("refine"), it, spec.width, spec.initStd, spec.normEps) }
    private val memory = spec.memory?.let { root.table("memory", it.tokens, spec.width, spec.initStd) }
    private val prelude = List(spec.prelude) { Block(root.scope("prelude.$it"), spec, inLoop = false) }
    private val core = LoopCore(root, spec)
    private val coda = List(spec.coda) { Block(root.scope("coda.$it"), spec, inLoop = false) }
    private val latent = spec.latent?.let { LatentThoughts(root.scope("latent"), spec, it, spec.residualStd) }
    private val finalNorm = root.gain("final_norm", spec.width)
    private val headMatrix = if (spec.embedding.tied) null else root.matrix("head", spec.width, vocabSize, spec.initStd)

    override fun logits(ops: Ops, params: Params, tokens: Tensor, pass: Pass): Tensor = run(Forward(ops, params, pass), tokens)

    override fun adaptiveLogits(ops: Ops, params: Params, tokens: Tensor, read: (Tensor) -> Double): Tensor =
        run(Forward(ops, params, Pass.Inference, read = read), tokens)

    override fun loss(ops: Ops, params: Params, inputs: Tensor, targets: Tensor, mask: Tensor, pass: Pass): ModelOutput {
        val f = Forward(ops, params, pass, mask, targets)
        return f.finish(ops.crossEntropy(run(f, inputs), targets, mask))
    }

    /** The whole forward pass: logits [B, T, V] of [tokens] [B, T]. */
    internal fun run(f: Forward, tokens: Tensor): Tensor = with(f.ops) {
        val p = f.params
        val (batch, length) = tokens.shape
        var x = embedding(tokens, p[embedding])
        when (val positions = spec.positions) {
            LearnedPositions -> {
                require(length <= spec.contextLength) {
                    "a sequence of $length tokens is longer than the learned position table (${spec.contextLength} rows)"
                }
                x = x + slice(p[positionTable!!], 0, 0, length)
            }
            is Rope -> f.ropeBase = positions.effectiveBase(spec.headSize)
        }
        if (refine != null) x = refine.apply(this, p, x)
        var ve = valueTable?.let { embedding(tokens, p[it]) }
        memory?.let { table ->
            val count = table.shape[0]
            x = concat(listOf(broadcastTo(reshape(p[table], listOf(1, count, spec.width)), listOf(batch, count, spec.width)), x), 1)
            ve = ve?.let { concat(listOf(zeros(listOf(batch, count, it.shape[2])), it), 1) }
            f.streamMask = f.mask?.let { concat(listOf(zeros(listOf(batch, count)), it), 1) }
            f.prefix = count
        }
        f.valueEmbedding = ve
        for (block in prelude) x = block.apply(f, x)
        // One head weight for the pass: the final head, auxiliary heads and per-loop losses share it
        // (under mixed precision, one cast of the [W, V] table instead of one per head).
        val weight = headMatrix?.let { p[it] } ?: transpose(p[embedding], 0, 1)
        val head: Head = { forward, stream, norm -> headLogits(forward, stream, norm, weight) }
        val result = core.apply(f, x, x, head, finalNorm)
        result.exitHead?.let { return@with head(f, result.stream, it) }
        var h = result.stream
        for (block in coda) h = block.apply(f, h)
        if (latent != null) h = latent.apply(f, h)
        head(f, h, finalNorm)
    }

    /** The LM head [weight] ([W, V]) after the RMSNorm [norm], on the token positions of [stream] (memory dropped). */
    private fun headLogits(f: Forward, stream: Tensor, norm: ParamRef, weight: Tensor): Tensor = with(f.ops) {
        val tokens = if (f.prefix == 0) stream else slice(stream, 1, f.prefix, stream.shape[1])
        linear(rmsNorm(tokens, f.params[norm], spec.normEps), weight)
    }
}
