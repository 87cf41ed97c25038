package looplab.pipelines.bench

import java.nio.file.Files
import java.nio.file.Path
import kotlin.random.Random
import looplab.curriculum.data.TokenBatch
import looplab.dsl.AdamW
import looplab.dsl.Backend
import looplab.dsl.Precision
import looplab.dsl.experiment
import looplab.models.Models
import looplab.models.Pass
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.train.Execution
import looplab.pipelines.train.loss

/**
 * One reading of a soak: process memory and the arrays DJL still holds, after [step] training
 * steps.
 */
public data class SoakSample(
    val backend: Backend,
    val step: Int,
    val rssBytes: Long,
    val liveArrays: Int,
    val heapBytes: Long,
)

/**
 * Trains a tiny looped model for many steps (zero gradients → forward and backward → AdamW, as the
 * pretraining loop does) and reads the process's resident memory and DJL's live arrays as it goes.
 * Anything a step allocates natively and never frees shows up as growth between readings; the Java
 * heap alone would not show it.
 */
public class SoakBench(private val backend: EagerBackend) {
    public fun run(
        kind: Backend,
        steps: Int,
        readAt: Set<Int>,
        report: (SoakSample) -> Unit,
    ): List<SoakSample> {
        val spec =
            experiment("soak") {
                    model("soak") {
                        width = 32
                        heads = 2
                        contextLength = 16
                        ffnHidden = 48
                        recursive(blocks = 1, loops = 2)
                    }
                }
                .models
                .single()
        val vocab = 64
        val model = Models.build(spec, vocab)
        val random = Random(3)
        val (batch, length) = 4 to 16
        val batchOfTokens =
            TokenBatch(
                IntArray(batch * length) { random.nextInt(vocab) },
                IntArray(batch * length) { random.nextInt(vocab) },
                FloatArray(batch * length) { 1f },
                batch,
                length,
                tokens = batch * length,
            )
        val samples = mutableListOf<SoakSample>()
        ParameterStore(model.parameters, backend, seed = 1).use { store ->
            val executor = Execution.executor(kind, Precision.Fp32, backend)
            val optimizer = Execution.optimizer(kind, AdamW(), store, backend)
            try {
                for (step in 1..steps) {
                    optimizer.zeroGradients()
                    executor.run(store, train = true) { ops, params ->
                        listOf(
                            model
                                .loss(
                                    ops,
                                    params,
                                    batchOfTokens,
                                    Pass(training = true, step = step.toLong()),
                                )
                                .loss
                        )
                    }
                    optimizer.step(1e-4, 1.0)
                    if (step in readAt) samples += sample(kind, step).also(report)
                }
            } finally {
                (optimizer as? AutoCloseable)?.close()
                (executor as? AutoCloseable)?.close()
            }
        }
        return samples
    }

    private fun sample(kind: Backend, step: Int): SoakSample {
        val runtime = Runtime.getRuntime()
        return SoakSample(
            kind,
            step,
            residentBytes(),
            backend.manager.managedArrays.size,
            runtime.totalMemory() - runtime.freeMemory(),
        )
    }

    public companion object {
        /** VmRSS of this process from /proc/self/status (Linux); -1 where there is none. */
        public fun residentBytes(): Long {
            val status = Path.of("/proc/self/status")
            if (!Files.isReadable(status)) return -1
            val line =
                Files.readAllLines(status).firstOrNull { it.startsWith("VmRSS:") } ?: return -1
            return line.removePrefix("VmRSS:").trim().removeSuffix("kB").trim().toLong() * 1024
        }
    }
}
