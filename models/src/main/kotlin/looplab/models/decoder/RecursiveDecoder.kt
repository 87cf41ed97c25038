package looplab.models.decoder

import kotlin.math.sqrt
import looplab.dsl.EmbeddingInit
import looplab.dsl.LearnedPositions
import looplab.dsl.ModelSpec
import looplab.dsl.NoPositions
import looplab.dsl.ParamRole
import looplab.dsl.Rope
import looplab.dsl.packingConflict
import looplab.models.AdaptiveInference
import looplab.models.LanguageModel
import looplab.models.LoopedModel
import looplab.models.ModelOutput
import looplab.models.PackedSequences
import looplab.models.Pass
import looplab.models.decode.CachedDecoding
import looplab.models.decode.DecodeCache
import looplab.models.params.ParamRef
import looplab.models.params.ParamRegistry
import looplab.models.params.Params
import looplab.models.parts.ConvRefineStep
import looplab.models.parts.LatentThoughts
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * The decoder of every variant. In order: token embedding (plus a learned position table for the
 * absolute-position control), convolutional refinement, memory tokens in front, prelude blocks, the
 * looped core ([LoopCore]), coda blocks, latent thoughts, then the final RMSNorm and the LM head
 * (tied to the embedding unless the spec unties it). `recursive(blocks = L, loops = 1)` with no
 * parts is the standard transformer.
 *
 * [logits] is the traced forward: it never reads a tensor value. [adaptiveLogits] is the
 * host-driven inference path: for ACT it reads, after each loop, whether any position still runs,
 * and stops when none does; its logits equal [logits]'s.
 */
public class RecursiveDecoder(public val spec: ModelSpec, override val vocabSize: Int) :
    LanguageModel, AdaptiveInference, LoopedModel, CachedDecoding, PackedSequences {
    override val parameters: ParamRegistry = ParamRegistry()
    private val root = parameters.scope("")
    private val embedding =
        root.table(
            "embed",
            vocabSize,
            spec.width,
            if (spec.embedding.init == EmbeddingInit.Spectral) 0.1 / sqrt(spec.width.toDouble())
            else spec.initStd,
        )
    private val positionTable =
        if (spec.positions == LearnedPositions)
            root.table("positions", spec.contextLength, spec.width, spec.initStd)
        else null
    private val valueTable =
        if (spec.embedding.valueEmbeddings)
            root.table("value_embed", vocabSize, spec.kvWidth, spec.initStd)
        else null
    private val refine =
        spec.embedding.refine?.let {
            ConvRefineStep(root.scope("refine"), it, spec.width, spec.initStd, spec.normEps)
        }
    private val memory =
        spec.memory?.let { root.table("memory", it.tokens, spec.width, spec.initStd) }
    private val prelude =
        List(spec.prelude) { Block(root.scope("prelude.$it"), spec, inLoop = false) }
    private val core = LoopCore(root, spec)
    private val coda = List(spec.coda) { Block(root.scope("coda.$it"), spec, inLoop = false) }
    private val latent =
        spec.latent?.let { LatentThoughts(root.scope("latent"), spec, it, spec.residualStd) }
    private val finalNorm = root.gain("final_norm", spec.width)
    private val headMatrix =
        if (spec.embedding.tied) null
        else root.matrix("head", spec.width, vocabSize, spec.initStd, ParamRole.Head)

    override fun logits(ops: Ops, params: Params, tokens: Tensor, pass: Pass): Tensor =
        run(Forward(ops, params, pass), tokens)

    override fun adaptiveLogits(
        ops: Ops,
        params: Params,
        tokens: Tensor,
        read: (Tensor) -> Double,
    ): Tensor = run(Forward(ops, params, Pass.Inference, read = read), tokens)

    override val trainedLoops: Int
        get() = spec.recursive.loops

    override val extrapolationBlocker: String?
        get() =
            core.perLoopParts?.let { "$it: parameters exist once per trained loop ($trainedLoops)" }

    override fun loopLogits(ops: Ops, params: Params, tokens: Tensor, loops: Int): List<Tensor> {
        val f = atDepth(ops, params, loops)
        val readouts = mutableListOf<Tensor>()
        run(f, tokens, readouts)
        return readouts
    }

    override fun logitsAtDepth(ops: Ops, params: Params, tokens: Tensor, loops: Int): Tensor =
        run(atDepth(ops, params, loops), tokens)

    private fun atDepth(ops: Ops, params: Params, loops: Int): Forward {
        require(loops >= 1) { "a pass runs at least one loop, was asked for $loops" }
        if (loops > trainedLoops)
            extrapolationBlocker?.let {
                throw IllegalArgumentException("model ${spec.name} cannot run $loops loops: $it")
            }
        return Forward(ops, params, Pass.Inference).also { it.depth = loops }
    }

    override fun prefill(ops: Ops, params: Params, tokens: Tensor, cache: DecodeCache): Tensor {
        require(cache.isPrefill) { "prefill needs a prefill cache (DecodeCache.prefill)" }
        return run(Forward(ops, params, Pass.Inference, cache = cache), tokens)
    }

    override fun step(ops: Ops, params: Params, tokens: Tensor, cache: DecodeCache): Tensor {
        val positions = cache.positions ?: error("step needs a step cache (DecodeCache.step)")
        require(tokens.shape == listOf(positions.size, 1)) {
            "a decoding step takes one token per row: [${positions.size}, 1], was ${tokens.shape}"
        }
        val f = Forward(ops, params, Pass.Inference, cache = cache)
        f.slots =
            StepSlots(
                ops,
                IntArray(positions.size) { memoryTokens + positions[it] },
                cache.capacity,
                spec.attentionWindow,
            )
        return run(f, tokens)
    }

    /** Stream positions in front of the tokens. */
    override val memoryTokens: Int
        get() = spec.memory?.tokens ?: 0

    override fun loss(
        ops: Ops,
        params: Params,
        inputs: Tensor,
        targets: Tensor,
        mask: Tensor,
        pass: Pass,
    ): ModelOutput {
        val f = Forward(ops, params, pass, mask, targets)
        return f.finish(toHead(f, inputs).loss(ops, targets, mask))
    }

    override fun packedLogits(
        ops: Ops,
        params: Params,
        tokens: Tensor,
        segments: Tensor,
        pass: Pass,
    ): Tensor {
        requirePackable()
        return run(Forward(ops, params, pass, segments = segments), tokens)
    }

    override fun packedLoss(
        ops: Ops,
        params: Params,
        inputs: Tensor,
        targets: Tensor,
        mask: Tensor,
        segments: Tensor,
        pass: Pass,
    ): ModelOutput {
        requirePackable()
        val f = Forward(ops, params, pass, mask, targets, segments = segments)
        return f.finish(toHead(f, inputs).loss(ops, targets, mask))
    }

    private fun requirePackable() {
        spec.packingConflict()?.let {
            throw IllegalArgumentException(
                "model ${spec.name} $it: packed rows need a model that mixes positions by attention only"
            )
        }
    }

    /**
     * The whole forward pass: logits [B, T, V] of [tokens] [B, T]. With [readouts], the stream
     * after every loop also goes through the rest of the model and its logits are collected there.
     */
    internal fun run(f: Forward, tokens: Tensor, readouts: MutableList<Tensor>? = null): Tensor =
        toHead(f, tokens, readouts).logits(f.ops)

    /**
     * The forward pass up to the LM head: what [run] multiplies into logits, and what a loss takes
     * whole (see [HeadInput]).
     */
    private fun toHead(
        f: Forward,
        tokens: Tensor,
        readouts: MutableList<Tensor>? = null,
    ): HeadInput =
        with(f.ops) {
            val p = f.params
            val (batch, length) = tokens.shape
            var x = embedding(tokens, p[embedding])
            val step = f.cache?.positions
            when (val positions = spec.positions) {
                LearnedPositions -> {
                    val last = step?.maxOrNull()?.plus(1) ?: length
                    require(last <= spec.contextLength) {
                        "a sequence of $last tokens is longer than the learned position table (${spec.contextLength} rows)"
                    }
                    x =
                        x +
                            if (step == null) slice(p[positionTable!!], 0, 0, length)
                            else embedding(tokens(step, batch, 1), p[positionTable!!])
                }
                // NTK scaling is fixed by the model, so cached and uncached decoding rotate alike
                // at any length.
                is Rope -> f.ropeBase = positions.effectiveBase(spec.headSize)
                // Attention rotates nothing while ropeBase stays null.
                NoPositions -> Unit
            }
            if (refine != null) x = refine.apply(f, x)
            var ve = valueTable?.let { embedding(tokens, p[it]) }
            // A decoding step's stream is the new token alone: the memory sits in the cache
            // already.
            if (step == null)
                memory?.let { table ->
                    val count = table.shape[0]
                    x =
                        concat(
                            listOf(
                                broadcastTo(
                                    reshape(p[table], listOf(1, count, spec.width)),
                                    listOf(batch, count, spec.width),
                                ),
                                x,
                            ),
                            1,
                        )
                    ve = ve?.let { concat(listOf(zeros(listOf(batch, count, it.shape[2])), it), 1) }
                    f.streamMask =
                        f.mask?.let { concat(listOf(zeros(listOf(batch, count)), it), 1) }
                    f.prefix = count
                }
            f.valueEmbedding = ve
            for ((i, block) in prelude.withIndex()) x =
                block.apply(f, x, BlockContext("prelude.$i"))
            // One head weight for the pass: the final head, auxiliary heads and per-loop losses
            // share it
            // (under mixed precision, one cast of the [W, V] table instead of one per head).
            val weight = headMatrix?.let { p[it] } ?: transpose(p[embedding], 0, 1)
            val head: Head = { forward, stream, norm -> headInput(forward, stream, norm, weight) }
            if (readouts != null)
                f.onLoop = { stream -> readouts += afterCore(f, stream, head).logits(this) }
            val result = core.apply(f, x, x, head, finalNorm)
            result.exitHead?.let {
                return@with head(f, result.stream, it)
            }
            afterCore(f, result.stream, head)
        }

    /** What follows the looped core: coda blocks, latent thoughts, the final norm and the head. */
    private fun afterCore(f: Forward, stream: Tensor, head: Head): HeadInput {
        var h = stream
        for ((i, block) in coda.withIndex()) h = block.apply(f, h, BlockContext("coda.$i"))
        if (latent != null) h = latent.apply(f, h)
        return head(f, h, finalNorm)
    }

    /**
     * The LM head [weight] ([W, V]) and the RMSNorm [norm] of the token positions of [stream]
     * (memory dropped).
     */
    private fun headInput(f: Forward, stream: Tensor, norm: ParamRef, weight: Tensor): HeadInput =
        with(f.ops) {
            val tokens = if (f.prefix == 0) stream else slice(stream, 1, f.prefix, stream.shape[1])
            HeadInput(rmsNorm(tokens, f.params[norm], spec.normEps), weight)
        }
}
