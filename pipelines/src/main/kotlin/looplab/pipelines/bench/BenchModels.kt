package looplab.pipelines.bench

import looplab.dsl.Architecture
import looplab.dsl.ModelBuilder
import looplab.dsl.Size
import looplab.dsl.experiment

/**
 * The models `looplab bench train` measures, at the shapes of issue 5: the nano and 125M baselines
 * of the ReLSM ladder (seed 001) and the osrt-v3 preset (seed 004), all with the 50,304-row
 * GPT-NeoX vocabulary at 2,048 tokens. Batches are chosen so that eager fp32, which keeps every
 * attention matrix for the backward pass, still fits an 80 GB GPU.
 */
public object BenchModels {
    private const val NEOX_VOCAB = 50_304

    private fun model(
        name: String,
        batch: Int,
        eagerBatch: Int,
        configure: ModelBuilder.() -> Unit,
    ): BenchModel {
        val spec =
            experiment("bench") {
                    model(name) {
                        configure()
                        vocabSize = NEOX_VOCAB
                        contextLength = 2048
                    }
                }
                .models
                .single()
        return BenchModel(name, spec, NEOX_VOCAB, batch, eagerBatch)
    }

    /** What a bench measures unless told otherwise: the comparison issue 5 asks for. */
    public val standard: List<BenchModel> =
        listOf(
            model("nano", batch = 16, eagerBatch = 4) { preset(Size.Nano) },
            model("125m", batch = 8, eagerBatch = 4) { preset(Size.M125) },
            model("osrt-v3", batch = 8, eagerBatch = 2) { preset(Architecture.OsrtV3) },
        )

    /**
     * Also osrt-v4 (seed 004's MoE beside the dense FFN, loop-aware router), which has no PyTorch
     * reference.
     */
    public val all: List<BenchModel> =
        standard + model("osrt-v4", batch = 4, eagerBatch = 1) { preset(Architecture.OsrtV4) }

    public fun named(name: String): BenchModel? = all.firstOrNull { it.name == name }
}
