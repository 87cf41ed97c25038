package looplab.dsl

import kotlinx.serialization.Serializable

/**
 * One model variant: a decoder whose [recursive] applies `blocks` unique blocks `loops` times with
 * shared weights. `blocks = L, loops = 1` is the plain transformer baseline.
 */
@Serializable
public data class ModelSpec(
    /** The variant's name in plans, metrics and results, e.g. `baseline` or `shared_loop`. */
    val name: String,
    /** Residual-stream width (d_model). */
    val width: Int,
    /** Attention heads; must divide [width], and the head size must be even for RoPE. */
    val heads: Int,
    /** Unique blocks and how many times they are looped. */
    val recursive: Recursion,
    /** The longest sequence trained on, in tokens. */
    val contextLength: Int,
    /** SwiGLU hidden size; null means 8/3 of the width rounded up to a multiple of 64 (LLaMA's rule). */
    val ffnHidden: Int? = null,
    /** RoPE base frequency; larger bases suit longer contexts (parameter golf used 500,000). */
    val ropeBase: Double = 10_000.0,
    /** RMSNorm epsilon. */
    val normEps: Double = 1e-5,
    /** Standard deviation of the normal initialisation of every matrix (GPT-2's 0.02). */
    val initStd: Double = 0.02,
) {
    /** The SwiGLU hidden size actually built. */
    val resolvedFfnHidden: Int get() = ffnHidden ?: roundUp(8 * width / 3, 64)

    /** Layers applied per token: unique blocks times loops. */
    val effectiveDepth: Int get() = recursive.blocks * recursive.loops

    private fun roundUp(value: Int, multiple: Int): Int = (value + multiple - 1) / multiple * multiple
}

/** `blocks` unique blocks applied in order, the whole stack repeated `loops` times. */
@Serializable
public data class Recursion(val blocks: Int, val loops: Int)

/**
 * The seed's size ladder (ReLSM, seed 001). Heads are width / 64 throughout; context lengths are the
 * seed's defaults for pretraining.
 */
public enum class Size(public val width: Int, public val layers: Int, public val heads: Int, public val contextLength: Int) {
    Nano(512, 6, 8, 1024),
    M50(512, 8, 8, 1024),
    M125(768, 12, 12, 1024),
    M300(1024, 24, 16, 1024),
    M350(1024, 24, 16, 1024),
    M760(1280, 36, 20, 2048),
    B1(2048, 18, 32, 2048),
    B1Long(2048, 18, 32, 16_384),
}

/** Builds a [ModelSpec]; every setting starts at [Size.Nano]'s. */
@LooplabDsl
public class ModelBuilder internal constructor(private val name: String) {
    public var width: Int = Size.Nano.width
    public var heads: Int = Size.Nano.heads
    /** Depth of a plain stack; ignored once [recursive] is called. */
    public var layers: Int = Size.Nano.layers
    public var contextLength: Int = Size.Nano.contextLength
    public var ffnHidden: Int? = null
    public var ropeBase: Double = 10_000.0
    public var normEps: Double = 1e-5
    public var initStd: Double = 0.02
    private var recursion: Recursion? = null

    /** Takes width, depth, heads and context length from a preset of the size ladder. */
    public fun preset(size: Size) {
        width = size.width
        layers = size.layers
        heads = size.heads
        contextLength = size.contextLength
    }

    /**
     * Applies [blocks] unique blocks [loops] times with shared weights, e.g. `recursive(blocks = 1,
     * loops = 6)` is one block looped six times: six effective layers from one layer's parameters.
     */
    public fun recursive(blocks: Int, loops: Int) {
        recursion = Recursion(blocks, loops)
    }

    internal fun build(): ModelSpec = ModelSpec(
        name = name,
        width = width,
        heads = heads,
        recursive = recursion ?: Recursion(layers, 1),
        contextLength = contextLength,
        ffnHidden = ffnHidden,
        ropeBase = ropeBase,
        normEps = normEps,
        initStd = initStd,
    )
}

/**
 * A reusable piece of model configuration: `val tiny = modelPart { width = 128; heads = 4 }`, then
 * `model("a") { tiny(); recursive(1, 4) }`.
 */
public fun modelPart(block: ModelBuilder.() -> Unit): ModelBuilder.() -> Unit = block
