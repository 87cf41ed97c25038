// The built-in `nano-ablation` example as a script: `looplab run examples/scripts/nano-ablation.looplab.kts`.
// The DSL (looplab.dsl.*) is imported; the last expression is the experiment.

experiment("nano-ablation") {
    seed = 1234
    data {
        algorithmic(Task.Parity, Task.Addition, Task.Copy)
    }
    val small = modelPart { width = 128; heads = 4; contextLength = 32 }
    model("baseline") { small(); layers = 4 }
    model("shared_loop") { small(); recursive(blocks = 1, loops = 4) }
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
