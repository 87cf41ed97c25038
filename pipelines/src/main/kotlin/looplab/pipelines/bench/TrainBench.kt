package looplab.pipelines.bench

import ai.djl.Device
import ai.djl.engine.EngineException
import ai.djl.pytorch.jni.JniUtils
import ai.djl.util.cuda.CudaUtils
import java.nio.file.Path
import kotlin.random.Random
import kotlinx.serialization.Serializable
import looplab.curriculum.data.TokenBatch
import looplab.dsl.AdamW
import looplab.dsl.Backend
import looplab.dsl.Lion
import looplab.dsl.ModelSpec
import looplab.dsl.Muon
import looplab.dsl.OptimizerSpec
import looplab.dsl.Precision
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.Models
import looplab.models.Pass
import looplab.models.cost.ModelCost
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.optim.Optimizer
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor
import looplab.pipelines.train.Execution
import looplab.pipelines.train.loss

/**
 * One model to measure: its spec, vocabulary and batch. Eager execution keeps every attention
 * matrix of the backward pass in memory, so it gets a smaller [eagerBatch] where that would not
 * fit.
 */
public class BenchModel(
    public val name: String,
    public val spec: ModelSpec,
    public val vocabSize: Int,
    public val batch: Int,
    public val eagerBatch: Int = batch,
) {
    public fun batchFor(mode: BenchMode): Int =
        if (mode.backend == Backend.Eager) eagerBatch else batch
}

/**
 * How to train it: the backend, precision and optimizer (by name: `adamw`, `lion`, `muon`, each
 * with its defaults).
 */
@Serializable
public data class BenchMode(
    val backend: Backend,
    val precision: Precision,
    val optimizer: String = "adamw",
) {
    init {
        require(optimizer in OPTIMIZERS) {
            "unknown optimizer \"$optimizer\" (${OPTIMIZERS.keys.joinToString()})"
        }
    }

    /** The optimizer's spec, with its defaults. */
    public val optimizerSpec: OptimizerSpec
        get() = OPTIMIZERS.getValue(optimizer)

    override fun toString(): String =
        "${backend.name.lowercase()}-${precision.name.lowercase()}" +
            if (optimizer == "adamw") "" else "-$optimizer"

    public companion object {
        /** The optimizers a bench can select, by name. */
        public val OPTIMIZERS: Map<String, OptimizerSpec> =
            mapOf("adamw" to AdamW(), "lion" to Lion(), "muon" to Muon())
    }
}

/** What one configuration measured. */
@Serializable
public data class BenchResult(
    val model: String,
    val mode: String,
    val device: String,
    val batch: Int,
    val sequence: Int,
    val physicalParams: Long,
    val trainingFlopsPerToken: Long,
    val steps: Int,
    val stepMillis: Double,
    val tokensPerSecond: Double,
    /** Achieved FLOP/s over [peakFlops]. */
    val mfu: Double,
    val peakFlops: Double,
    /**
     * Most device memory in use after any step, minus what was in use before the model existed;
     * null on a CPU, and for every GPU model after a process's first (see [TrainBench]).
     */
    val peakMemoryBytes: Long?,
    val finalLoss: Double,
    val error: String? = null,
    /** Where a step's time goes, each phase timed on its own (ends synchronised on the host). */
    val forwardMillis: Double? = null,
    val backwardMillis: Double? = null,
    val optimizerMillis: Double? = null,
)

/**
 * Times training steps of one model in one mode on random tokens: a few warm-up steps (compiling
 * programs, growing the allocator), then [steps] timed ones. Each step ends with the loss read on
 * the host, so the device has finished it when the clock stops.
 */
public class TrainBench(private val backend: EagerBackend, private val peakFlops: Double) {
    public fun measure(
        model: BenchModel,
        mode: BenchMode,
        sequence: Int,
        steps: Int,
        warmup: Int = 3,
        profile: Path? = null,
    ): BenchResult {
        if (backend.device.isGpu) JniUtils.emptyCudaCache()
        // Only a process's first GPU model has a baseline to measure its memory against.
        val memoryBefore = memoryInUse(backend.device)?.takeIf { !usedDevice }
        if (backend.device.isGpu) usedDevice = true
        val built = Models.build(model.spec, model.vocabSize)
        val resources = mutableListOf<AutoCloseable>()
        try {
            val store = ParameterStore(built.parameters, backend, seed = 1).also { resources += it }
            val executor =
                Execution.executor(mode.backend, mode.precision, backend).also {
                    if (it is AutoCloseable) resources += it
                }
            val optimizer =
                Execution.optimizer(
                        mode.backend,
                        mode.optimizerSpec,
                        store,
                        backend,
                        schedulePeak = BENCH_LR,
                    )
                    .also { if (it is AutoCloseable) resources += it }
            return timeSteps(
                model,
                mode,
                sequence,
                steps,
                warmup,
                built,
                store,
                executor,
                optimizer,
                memoryBefore,
                profile,
            )
        } catch (e: EngineException) {
            // Out of memory and the like: a result that says so, and the next configuration still
            // runs.
            val cost = ModelCost.of(model.spec, model.vocabSize, sequence)
            return BenchResult(
                model.name,
                mode.toString(),
                backend.device.toString(),
                model.batchFor(mode),
                sequence,
                cost.physicalParams,
                cost.trainingFlopsPerToken,
                0,
                Double.NaN,
                0.0,
                0.0,
                peakFlops,
                null,
                Double.NaN,
                e.message?.lineSequence()?.firstOrNull { it.isNotBlank() },
            )
        } finally {
            resources.asReversed().forEach { it.close() }
        }
    }

    private fun timeSteps(
        model: BenchModel,
        mode: BenchMode,
        sequence: Int,
        steps: Int,
        warmup: Int,
        built: LanguageModel,
        store: ParameterStore,
        executor: Executor,
        optimizer: Optimizer,
        memoryBefore: Long?,
        profile: Path?,
    ): BenchResult {
        val batch = model.batchFor(mode)
        val random = Random(7)
        val tokens = IntArray(batch * (sequence + 1)) { random.nextInt(model.vocabSize) }
        val inputs =
            IntArray(batch * sequence) { tokens[(it / sequence) * (sequence + 1) + it % sequence] }
        val targets =
            IntArray(batch * sequence) {
                tokens[(it / sequence) * (sequence + 1) + it % sequence + 1]
            }
        val batchOfTokens =
            TokenBatch(
                inputs,
                targets,
                FloatArray(batch * sequence) { 1f },
                batch,
                sequence,
                tokens = batch * sequence,
            )
        fun loss(step: Long): (Ops, Params) -> List<Tensor> = { ops, params ->
            listOf(built.loss(ops, params, batchOfTokens, Pass(training = true, step = step)).loss)
        }
        var peakMemory = 0L
        var loss = 0.0
        var timed = 0L
        repeat(warmup + steps) { step ->
            // The first timed step is profiled when asked: a Chrome trace of its kernels.
            val profiling = profile != null && step == warmup
            if (profiling) JniUtils.startProfile(backend.device.isGpu, false, false)
            val started = System.nanoTime()
            optimizer.zeroGradients()
            loss = executor.run(store, train = true, compute = loss(step.toLong()))[0][0].toDouble()
            optimizer.step(BENCH_LR, 1.0)
            if (step >= warmup) timed += System.nanoTime() - started
            if (profiling) JniUtils.stopProfile(profile.toString())
            memoryInUse(backend.device)?.let { peakMemory = maxOf(peakMemory, it) }
        }
        val phases = phases(store, executor, optimizer, loss(0))
        val cost = ModelCost.of(model.spec, model.vocabSize, sequence)
        val seconds = timed / 1e9
        val tokensPerSecond = batch.toDouble() * sequence * steps / seconds
        return BenchResult(
            model = model.name,
            mode = mode.toString(),
            device = backend.device.toString(),
            batch = batch,
            sequence = sequence,
            physicalParams = cost.physicalParams,
            trainingFlopsPerToken = cost.trainingFlopsPerToken,
            steps = steps,
            stepMillis = 1000 * seconds / steps,
            tokensPerSecond = tokensPerSecond,
            mfu = tokensPerSecond * cost.trainingFlopsPerToken / peakFlops,
            peakFlops = peakFlops,
            peakMemoryBytes = memoryBefore?.let { peakMemory - it },
            finalLoss = loss,
            forwardMillis = phases[0],
            backwardMillis = phases[1] - phases[0],
            optimizerMillis = phases[2],
        )
    }

    /**
     * Milliseconds of forward alone, forward and backward, and the optimizer step, each a median
     * of 5.
     */
    private fun phases(
        store: ParameterStore,
        executor: Executor,
        optimizer: Optimizer,
        compute: (Ops, Params) -> List<Tensor>,
    ): List<Double> {
        fun median(block: () -> Unit): Double =
            List(5) {
                    val t0 = System.nanoTime()
                    block()
                    (System.nanoTime() - t0) / 1e6
                }
                .sorted()[2]
        val forward = median { executor.run(store, train = false, compute = compute) }
        val forwardBackward = median {
            optimizer.zeroGradients()
            executor.run(store, train = true, compute = compute)
        }
        val step = median { optimizer.step(BENCH_LR, 1.0) }
        return listOf(forward, forwardBackward, step)
    }

    private fun memoryInUse(device: Device): Long? =
        if (device.isGpu) CudaUtils.getGpuMemory(device).used else null

    private companion object {
        /**
         * Set once a model has run on the GPU in this process. Measured on an H100 (2026-12-07):
         * the next model's memory then reads as 0 to 16 MiB, since blocks the earlier one left with
         * PyTorch's caching allocator are reused and `emptyCache` does not return them; so only a
         * process's first model has its peak memory reported (bench one model per command for the
         * others).
         */
        @Volatile var usedDevice = false
    }
}

/** The learning rate of every timed step (its value does not change a step's time). */
private const val BENCH_LR = 1e-4
