package looplab.dsl

import kotlinx.serialization.Serializable

/**
 * One model variant: a decoder whose [recursive] core applies `blocks` unique blocks `loops` times
 * with shared weights, plus whatever model-level parts it declares. `blocks = L, loops = 1` with no
 * parts is the plain transformer baseline. Every part is optional and off by default, so a spec
 * says exactly what differs from that baseline.
 */
@Serializable
public data class ModelSpec(
    /** The variant's name in plans, metrics and results, e.g. `baseline` or `shared_loop`. */
    val name: String,
    /** Residual-stream width (d_model). */
    val width: Int,
    /** Query heads; must divide [width], and the head size must be even for RoPE. */
    val heads: Int,
    /** The looped core: unique blocks, loops, what a block holds and what happens between loops. */
    val recursive: Recursion,
    /** The longest sequence trained on, in tokens. */
    val contextLength: Int,
    /**
     * SwiGLU hidden size; null means 8/3 of the width rounded up to a multiple of 64 (LLaMA's
     * rule).
     */
    val ffnHidden: Int? = null,
    /** RMSNorm epsilon. */
    val normEps: Double = 1e-5,
    /** Standard deviation of the normal initialisation of every matrix (GPT-2's 0.02). */
    val initStd: Double = 0.02,
    /**
     * Key/value heads for grouped-query attention; null means as many as [heads] (plain
     * multi-head).
     */
    val kvHeads: Int? = null,
    /**
     * Rows of the embedding table; null means the tokenizer's vocabulary. Padded vocabularies
     * (osrt-v3 uses 50,304 rows for the 50,277 tokens of GPT-NeoX) set it; it must be at least the
     * tokenizer's size.
     */
    val vocabSize: Int? = null,
    /** How positions enter the model: rotary (the default) or a learned absolute table. */
    val positions: Positions = Rope(),
    /**
     * Sliding-window attention: a position sees itself and the `attentionWindow − 1` positions
     * before it, in every layer and loop; null means the whole causal prefix. With a small window
     * information moves a bounded distance per loop, so a looped model has to iterate to reach
     * far-away tokens (and gets more reach from more loops at test time).
     */
    val attentionWindow: Int? = null,
    /**
     * Embedding table options: tying, initialisation, value embeddings, convolutional refinement.
     */
    val embedding: EmbeddingSpec = EmbeddingSpec(),
    /** Unique blocks applied once before the loop (same design as the looped blocks). */
    val prelude: Int = 0,
    /** Unique blocks applied once after the loop. */
    val coda: Int = 0,
    /** A stream of thought slots refined beside the token stream after the loop. */
    val latent: Latent? = null,
    /** Adaptive computation: per-position halting over the loops. */
    val act: Act? = null,
    /** Learned memory tokens placed before the sequence. */
    val memory: MemoryTokens? = null,
    /** Auxiliary prediction heads at chosen loops (intermediate supervision). */
    val auxHeads: List<AuxHead> = emptyList(),
    /** Inference stops after this loop. */
    val earlyExit: EarlyExit? = null,
) {
    /** The SwiGLU hidden size actually built. */
    val resolvedFfnHidden: Int
        get() = ffnHidden ?: roundUp(8 * width / 3, 64)

    /** Key/value heads actually built. */
    val resolvedKvHeads: Int
        get() = kvHeads ?: heads

    /** Size of one attention head. */
    val headSize: Int
        get() = width / heads

    /** Width of the keys and values: key/value heads times the head size. */
    val kvWidth: Int
        get() = resolvedKvHeads * headSize

    /** Blocks applied per token: prelude, unique blocks times loops, coda. */
    val effectiveDepth: Int
        get() = prelude + recursive.blocks * recursive.loops + coda
}

internal fun roundUp(value: Int, multiple: Int): Int = (value + multiple - 1) / multiple * multiple

/**
 * The looped core: `blocks` unique blocks applied in order, the whole stack repeated `loops` times.
 * Block-level parts (mixer, key rank, convolution, MoE) shape every block of the model; loop-level
 * parts act between or around passes.
 */
@Serializable
public data class Recursion(
    val blocks: Int,
    val loops: Int,
    /** How every block (looped, prelude and coda) mixes positions: attention, or a Mamba-2 SSM. */
    val mixer: Mixer = AttentionMixer,
    /** Keys through a rank-r bottleneck (`x·A·B`) instead of a full projection (parameter golf). */
    val keyRank: Int? = null,
    /** A causal convolution inside every block's FFN. */
    val conv: FfnConv? = null,
    /** A mixture of experts in every block, beside (or instead of) the dense FFN. */
    val moe: Moe? = null,
    /**
     * The FFN (with its convolution) run as a small inner recurrence of `cycles` steps per block
     * and loop (CRT's TRM cycles).
     */
    val trm: TrmCycles? = null,
    /** Re-adds the (refined) embedding at the start of every loop after the first. */
    val inject: Boolean = false,
    /** A low-rank residual adapter per (block, loop). */
    val adapters: Adapters? = null,
    /** Learned attention scale, MLP scale and residual mix per (block, loop). */
    val passControls: Boolean = false,
    /** One RMSNorm, shared by every loop, between consecutive loops. */
    val interLoopNorm: Boolean = false,
    /**
     * U-Net skips: the output of pass i is added (with a learned weight) to the input of pass
     * loops - 1 - i.
     */
    val skips: Boolean = false,
    /** A per-token, per-pass gate deciding how much of each pass to keep. */
    val exitGate: Boolean = false,
    /**
     * The change of the stream between passes, through a rank-r projection, added to the next pass
     * (parameter golf).
     */
    val tdCarry: LowRankCarry? = null,
    /**
     * A rank-r GRU state carried from pass to pass, read into every pass after the first (parameter
     * golf).
     */
    val gruCarry: LowRankCarry? = null,
    /**
     * Each pass after the first sees the previous pass's exit-gate value per position (parameter
     * golf).
     */
    val confidence: Boolean = false,
    /** Loop dropout: training draws the number of loops from a range at every step. */
    val randomDepth: RandomDepth? = null,
    /** An auxiliary LM loss at every loop but the last, through the final norm and head. */
    val loopLoss: LoopLoss? = null,
    /** Logs the RMS of the stream after every loop (a metric per loop, no parameters). */
    val telemetry: Boolean = true,
) {
    /**
     * The parts that exist once per loop (so no more loops than [loops] can run), by their DSL
     * names; empty when none.
     */
    val perLoopParts: List<String>
        get() =
            listOfNotNull(
                "adapters".takeIf { adapters != null },
                "passControls".takeIf { passControls },
                "exitGate".takeIf { exitGate },
                "unetSkips".takeIf { skips },
            )
}

/**
 * Builds a [ModelSpec]; width, depth, heads and context start at [Size.Nano]'s, and every other
 * setting is the spec's own default.
 */
@LooplabDsl
public class ModelBuilder internal constructor(private val name: String) {
    private var spec = startingSpec(name)
    private var recursion: Recursion? = null

    public var width: Int by spec(ModelSpec::width) { s, v -> s.copy(width = v) }
    public var heads: Int by spec(ModelSpec::heads) { s, v -> s.copy(heads = v) }
    /** Key/value heads (GQA); null means one per query head. */
    public var kvHeads: Int? by spec(ModelSpec::kvHeads) { s, v -> s.copy(kvHeads = v) }
    /** Depth of a plain stack; ignored once [recursive] is called. */
    public var layers: Int = Size.Nano.layers
    public var contextLength: Int by
        spec(ModelSpec::contextLength) { s, v -> s.copy(contextLength = v) }
    public var ffnHidden: Int? by spec(ModelSpec::ffnHidden) { s, v -> s.copy(ffnHidden = v) }
    public var normEps: Double by spec(ModelSpec::normEps) { s, v -> s.copy(normEps = v) }
    public var initStd: Double by spec(ModelSpec::initStd) { s, v -> s.copy(initStd = v) }
    /** Embedding rows; null means the tokenizer's vocabulary. */
    public var vocabSize: Int? by spec(ModelSpec::vocabSize) { s, v -> s.copy(vocabSize = v) }
    /**
     * Rotary by default; `positions = LearnedPositions` is the absolute-embedding control,
     * `positions = NoPositions` attention without any (NoPE).
     */
    public var positions: Positions by spec(ModelSpec::positions) { s, v -> s.copy(positions = v) }
    /** Sliding-window attention over this many positions (itself included); null: all before it. */
    public var attentionWindow: Int? by
        spec(ModelSpec::attentionWindow) { s, v -> s.copy(attentionWindow = v) }
    /** Whether the LM head reuses the embedding table. */
    public var tiedEmbeddings: Boolean by
        spec({ it.embedding.tied }) { s, v -> s.copy(embedding = s.embedding.copy(tied = v)) }
    public var embeddingInit: EmbeddingInit by
        spec({ it.embedding.init }) { s, v -> s.copy(embedding = s.embedding.copy(init = v)) }
    /** Unique blocks before the loop. */
    public var prelude: Int by spec(ModelSpec::prelude) { s, v -> s.copy(prelude = v) }
    /** Unique blocks after the loop. */
    public var coda: Int by spec(ModelSpec::coda) { s, v -> s.copy(coda = v) }

    /** Takes width, depth, heads, context length and vocabulary from a rung of the size ladder. */
    public fun preset(size: Size) {
        width = size.width
        layers = size.layers
        heads = size.heads
        kvHeads = size.kvHeads
        contextLength = size.contextLength
        vocabSize = size.vocabSize
    }

    /**
     * Takes a whole architecture (osrt-v3, osrt-v4, golf-3x3, crt-v2), replacing every setting made
     * before the call; settings after it override the preset, e.g. `preset(Architecture.OsrtV3);
     * width = 128; heads = 4; vocabSize = null` keeps the architecture at a CPU size.
     */
    public fun preset(architecture: Architecture) {
        spec = startingSpec(name)
        layers = Size.Nano.layers
        recursion = null
        architecture.configure(this)
    }

    /**
     * Rotary positions with base [base]; [ntk] scales the base, at every length, for reading up to
     * [ntkFactor] × [contextLength] tokens.
     */
    public fun rope(
        base: Double = ROPE.base,
        ntk: Boolean = ROPE.ntk,
        ntkFactor: Double = ROPE.ntkFactor,
    ) {
        positions = Rope(base, ntk, ntkFactor)
    }

    /**
     * Applies [blocks] unique blocks [loops] times with shared weights; [block] says what the
     * blocks hold and what happens between loops:
     * ```
     * recursive(blocks = 3, loops = 6) { moe(experts = 12, topK = 2); adapters(rank = 16) }
     * ```
     */
    public fun recursive(blocks: Int, loops: Int, block: RecursionBuilder.() -> Unit = {}) {
        recursion = RecursionBuilder(blocks, loops).apply(block).build()
    }

    /** Adds a learned value embedding (one table, gated per block) to the attention values. */
    public fun valueEmbeddings() {
        spec = spec.copy(embedding = spec.embedding.copy(valueEmbeddings = true))
    }

    /**
     * Refines the embeddings by [cycles] passes of a shared causal conv + linear step before the
     * loop.
     */
    public fun refineEmbeddings(
        cycles: Int = REFINE.cycles,
        kernel: Int = REFINE.kernel,
        dilation: Int = REFINE.dilation,
    ) {
        spec =
            spec.copy(
                embedding = spec.embedding.copy(refine = ConvRefine(cycles, kernel, dilation))
            )
    }

    /**
     * [thoughts] slots per position, refined [refinements] times against the token stream (causal).
     */
    public fun latent(thoughts: Int = LATENT.thoughts, refinements: Int = LATENT.refinements) {
        spec = spec.copy(latent = Latent(thoughts, refinements))
    }

    /** Per-position adaptive halting over the loops, at most `loops` of them. */
    public fun act(threshold: Double = ACT.threshold, ponderWeight: Double = ACT.ponderWeight) {
        spec = spec.copy(act = Act(threshold, ponderWeight))
    }

    /** [tokens] learned memory tokens before the sequence, visible to every position. */
    public fun memory(tokens: Int = MEMORY.tokens) {
        spec = spec.copy(memory = MemoryTokens(tokens))
    }

    /** An auxiliary prediction head after [loop] (1-based), its loss added with [weight]. */
    public fun auxHead(loop: Int, weight: Double = AUX_HEAD.weight) {
        spec = spec.copy(auxHeads = spec.auxHeads + AuxHead(loop, weight))
    }

    /** Auxiliary heads after each of [loops], all with [weight]. */
    public fun auxHeads(vararg loops: Int, weight: Double = AUX_HEAD.weight) {
        loops.forEach { auxHead(it, weight) }
    }

    /** At inference, stop after [loop] (1-based) and predict from there. */
    public fun earlyExit(loop: Int) {
        spec = spec.copy(earlyExit = EarlyExit(loop))
    }

    internal fun build(): ModelSpec = spec.copy(recursive = recursion ?: Recursion(layers, 1))

    private fun <T> spec(read: (ModelSpec) -> T, write: (ModelSpec, T) -> ModelSpec) =
        SpecField({ spec }, { spec = it }, read, write)

    private companion object {
        // The specs hold the defaults; the builder's parameters read them from there.
        val ROPE = Rope()
        val REFINE = ConvRefine()
        val LATENT = Latent()
        val ACT = Act()
        val MEMORY = MemoryTokens()
        val AUX_HEAD = AuxHead(loop = 1)

        /** The spec before any setting: Size.Nano's shape, everything else the spec's defaults. */
        fun startingSpec(name: String) =
            ModelSpec(
                name = name,
                width = Size.Nano.width,
                heads = Size.Nano.heads,
                recursive = Recursion(Size.Nano.layers, 1),
                contextLength = Size.Nano.contextLength,
            )
    }
}

/**
 * A reusable piece of model configuration: `val tiny = modelPart { width = 128; heads = 4 }`, then
 * `model("a") { tiny(); recursive(1, 4) }`.
 */
public fun modelPart(block: ModelBuilder.() -> Unit): ModelBuilder.() -> Unit = block
