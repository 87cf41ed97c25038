package looplab.pipelines.bench

import looplab.dsl.ModelSpec
import looplab.dsl.Recursion
import looplab.dsl.Size

/**
 * The models `looplab bench train` measures, at the shapes of issue 5: the nano and 125M
 * baselines of the ReLSM ladder (seed 001) with the 50,304-row GPT-NeoX vocabulary, batch sizes
 * chosen so that eager fp32 (which materialises every attention matrix) still fits an 80 GB GPU
 * at 2,048 tokens.
 */
public object BenchModels {
    private const val NEOX_VOCAB = 50_304

    private fun ladder(name: String, size: Size, batch: Int, eagerBatch: Int) = BenchModel(
        name,
        ModelSpec(name, size.width, size.heads, Recursion(size.layers, 1), contextLength = 2048),
        NEOX_VOCAB, batch, eagerBatch,
    )

    public val all: List<BenchModel> = listOf(
        ladder("nano", Size.Nano, batch = 16, eagerBatch = 4),
        ladder("125m", Size.M125, batch = 8, eagerBatch = 4),
    )

    public fun named(name: String): BenchModel? = all.firstOrNull { it.name == name }
}
