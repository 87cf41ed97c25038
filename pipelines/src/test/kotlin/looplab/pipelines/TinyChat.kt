package looplab.pipelines

import looplab.dsl.*

/**
 * Copy in bytes with a two-layer model of width 32: the data and model the chat specs post-train,
 * small enough for seconds per stage.
 */
internal fun ExperimentBuilder.tinyCopyInBytes() {
    data {
        tokenizer = Tokenizers.bytes
        algorithmic { task(Task.Copy, train = 1..4, ood = listOf(6)) }
    }
    model("m") {
        width = 32
        heads = 2
        layers = 2
        contextLength = 96
        ffnHidden = 64
    }
}

/** 20 steps of pretraining on the copy task, for chat stages to start from. */
internal fun PipelineBuilder.tinyPretrain(): ModelRef = pretrain {
    budget = 20.steps
    batchSize = 8
    lr = cosine(peak = 3e-3, warmup = 2.steps)
    evalSamples = 2
}
