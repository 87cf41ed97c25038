package looplab.pipelines

import looplab.dsl.*
import looplab.pipelines.cli.BuiltInExample
import looplab.pipelines.cli.ExampleCatalog
import looplab.pipelines.cli.runCli

/**
 * One small variant trained long enough to be stopped by a signal midway (no evaluation or timed
 * checkpoint before the end).
 */
fun longTinyExperiment(steps: Int = 400) =
    experiment("long") {
        seed = 3
        data { algorithmic { task(Task.Parity, train = 1..4, ood = listOf(6)) } }
        model("m") {
            width = 32
            heads = 2
            contextLength = 16
            ffnHidden = 48
            layers = 1
        }
        pipeline {
            pretrain {
                budget = steps.steps
                batchSize = 4
                lr = cosine(peak = 3e-3, warmup = 2.steps)
                evalSamples = 2
                logEvery = 1.steps
                checkpoint(every = null, minutes = null)
            }
        }
    }

/**
 * The `looplab` CLI with [longTinyExperiment] as its one example: started as a child JVM by
 * [SignalSpec].
 */
object SignalledRunMain {
    @JvmStatic
    fun main(args: Array<String>) {
        runCli(
            ExampleCatalog {
                listOf(BuiltInExample("long", "a run to interrupt") { longTinyExperiment() })
            },
            args,
        )
    }
}
