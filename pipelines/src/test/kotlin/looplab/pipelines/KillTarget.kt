package looplab.pipelines

import com.github.ajalt.mordant.terminal.Terminal
import java.nio.file.Path
import looplab.dsl.*
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner

/** The experiment the kill harness interrupts: one tiny variant, a checkpoint every 10 steps. */
fun killExperiment() =
    experiment("kill") {
        seed = 11
        data { algorithmic { task(Task.Parity, train = 1..4, ood = listOf(6)) } }
        model("m") {
            width = 32
            heads = 2
            contextLength = 16
            ffnHidden = 48
            recursive(blocks = 1, loops = 2)
        }
        pipeline {
            val base = pretrain {
                budget = 120.steps
                batchSize = 4
                lr = cosine(peak = 3e-3, warmup = 5.steps)
                evalEvery = 10.steps
                evalSamples = 1
                logEvery = 1.steps
            }
            eval(base) { algorithmic(samples = 2, maxNewTokens = 6) }
        }
    }

/**
 * A run of [killExperiment] in a JVM of its own, as `looplab run` makes it, that prints a marker
 * line at every step (`STEP n`) and before every checkpoint file it writes (`CHECKPOINT-WRITE`),
 * pausing there, so the harness can SIGKILL it at a chosen step or inside a checkpoint write.
 * Arguments: the runs folder, and the run folder to resume, if any.
 */
object KillTarget {
    @JvmStatic
    fun main(args: Array<String>) {
        Checkpoint.beforeWrite = { file ->
            println("CHECKPOINT-WRITE ${file.parent.fileName}/${file.fileName}")
            System.out.flush()
            Thread.sleep(100)
        }
        val marker =
            object : TrainingListener {
                override fun stepped(metrics: TrainMetrics, logged: Boolean) {
                    println("STEP ${metrics.step}")
                    System.out.flush()
                }
            }
        val resume = args.getOrNull(1)?.let { Path.of(it) }
        val result =
            Runner(terminal = Terminal())
                .run(
                    killExperiment(),
                    RunOptions(Path.of(args[0]), resume, listeners = listOf(marker)),
                )
        println("DONE ${result.dir}")
        System.exit(if (result.succeeded) 0 else 1)
    }
}
