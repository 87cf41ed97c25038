package looplab.examples

import looplab.dsl.*

/**
 * Parity, addition and copy at lengths a 2-core CPU learns from in a few hundred steps, each with a
 * short out-of-distribution grid, so that training and evaluation of a variant take a minute or so.
 */
fun ExperimentBuilder.cpuTasks() = data {
    algorithmic {
        task(Task.Parity, train = 1..6, ood = listOf(8, 12))
        task(Task.Addition, train = 1..3, ood = listOf(4, 5))
        task(Task.Copy, train = 1..5, ood = listOf(6, 8))
    }
}

/**
 * A short pretraining run (300 steps, batch 16, cosine from 3e-3) and an evaluation, for the
 * CPU-sized defaults.
 */
fun ExperimentBuilder.cpuPipeline() = pipeline {
    val base = pretrain {
        budget = 300.steps
        batchSize = 16
        lr = cosine(peak = 3e-3, warmup = 30.steps)
        evalSamples = 8
    }
    eval(base) { algorithmic(samples = 16, maxNewTokens = 10) }
}

/**
 * The full-size variants: seed 001's tasks and grids, on GPU 0, 20M tokens at a lower learning
 * rate.
 */
fun ExperimentBuilder.gpuSetup() {
    device = Gpu(0)
    data { algorithmic(Task.Parity, Task.Addition, Task.Copy) }
    pipeline {
        val base = gpuPretrain()
        eval(base) { algorithmic(samples = 100, maxNewTokens = 70) }
    }
}

/**
 * Seed 001's nano pretraining: 20M tokens, batch 64, cosine from 3e-4, evaluated every 2,000 steps.
 */
fun PipelineBuilder.gpuPretrain(): ModelRef = pretrain {
    budget = 20.M.tokens
    batchSize = 64
    lr = cosine(peak = 3e-4, warmup = 500.steps)
    evalEvery = 2_000.steps
}

/**
 * Width 64, 4 heads, the tokenizer's own vocabulary and a 32-token context: the CPU size every
 * example shrinks to.
 */
val cpuSize = modelPart {
    width = 64
    heads = 4
    vocabSize = null
    contextLength = 32
    ffnHidden = null
}
