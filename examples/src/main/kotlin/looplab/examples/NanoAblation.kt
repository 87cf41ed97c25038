package looplab.examples

import looplab.dsl.*

/**
 * The ablation ladder's first rung (seed 001), sized for a 2-core CPU: a plain 4-layer transformer
 * against one block looped 4 times (same compute per token, a quarter of the block parameters), on
 * parity, addition and copy, tested on their training lengths and beyond them.
 */
val nanoAblation =
    experiment("nano-ablation") {
        nanoAblationVariants()
        pipeline {
            val base = pretrain {
                budget = 1_200.steps
                batchSize = 32
                lr = cosine(peak = 2e-3, warmup = 60.steps)
                evalEvery = 400.steps
            }
            eval(base) { algorithmic(samples = 50, maxNewTokens = 40) }
        }
    }

/** nano-ablation's seed, data and its two variants, which other examples reuse. */
internal fun ExperimentBuilder.nanoAblationVariants() {
    seed = 1234
    data { algorithmic(Task.Parity, Task.Addition, Task.Copy) }
    val small = modelPart {
        width = 128
        heads = 4
        contextLength = 32
    }
    model("baseline") {
        small()
        layers = 4
    }
    model("shared_loop") {
        small()
        recursive(blocks = 1, loops = 4)
    }
}
