// A sweep declared as data: 2 variants x 2 seeds of a tiny experiment (seconds per cell on a CPU).
// `looplab sweep examples/scripts/tiny-sweep.looplab.kts` runs it on a local pool; add `--executor slurm` for a job array.

sweep(experiment("tiny-sweep") {
    data {
        algorithmic {
            task(Task.Parity, train = 1..4, ood = listOf(6))
            task(Task.Copy, train = 1..3, ood = listOf(5))
        }
    }
    val tiny = modelPart { width = 32; heads = 2; contextLength = 16; ffnHidden = 48 }
    model("baseline") { tiny(); layers = 2 }
    model("shared_loop") { tiny(); recursive(blocks = 1, loops = 2) }
    pipeline {
        val base = pretrain {
            budget = 200.steps
            batchSize = 8
            lr = cosine(peak = 3e-3, warmup = 5.steps)
            evalEvery = 50.steps
            evalSamples = 4
            logEvery = 1.steps
        }
        eval(base) { algorithmic(samples = 8, maxNewTokens = 8) }
    }
}) {
    grid { variants("baseline", "shared_loop"); seeds(1, 2) }
    slurm { parallel = 2; time = "0:10:00" }
}
