package looplab.pipelines

import looplab.dsl.*

/** A two-variant experiment small enough to train in seconds. */
fun tinyExperiment(name: String = "tiny", steps: Int = 20, evalEvery: Int? = 10, seed: Long = 7) =
    experiment(name) {
        this.seed = seed
        data {
            algorithmic {
                task(Task.Parity, train = 1..4, ood = listOf(6))
                task(Task.Copy, train = 1..3, ood = listOf(5))
            }
        }
        val tiny = modelPart {
            width = 32
            heads = 2
            contextLength = 16
            ffnHidden = 48
        }
        model("baseline") {
            tiny()
            layers = 2
        }
        model("shared_loop") {
            tiny()
            recursive(blocks = 1, loops = 2)
        }
        pipeline {
            val base = pretrain {
                budget = steps.steps
                batchSize = 8
                lr = cosine(peak = 3e-3, warmup = 2.steps)
                this.evalEvery = evalEvery?.steps
                evalSamples = 4
                logEvery = 1.steps
            }
            eval(base) { algorithmic(samples = 6, maxNewTokens = 8) }
        }
    }
