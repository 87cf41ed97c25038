package looplab.pipelines.bench

import kotlin.random.Random
import looplab.models.Models
import looplab.models.compiled.CompiledExecutor
import looplab.models.decode.Generator
import looplab.models.decode.SamplingConfig
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.train.Execution

/**
 * Decoding speed of one model, mode, batch and context: cached steps against full recomputation.
 */
public class GenerateResult(
    public val model: String,
    public val mode: String,
    public val batch: Int,
    public val context: Int,
    /** Prefill of the prompts, milliseconds. */
    public val prefillMillis: Double,
    /** Generated tokens per second (all rows) of the cached decoding steps, prefill excluded. */
    public val cachedTokensPerSecond: Double,
    /**
     * The same without a cache (each token recomputes the whole sequence); null when not measured.
     */
    public val uncachedTokensPerSecond: Double?,
    /**
     * Tokens/s of one whole `generate` call (prefill and every step, greedy on the device), all
     * rows: what `transformers`' `generate` is timed as.
     */
    public val generateTokensPerSecond: Double,
    /** Per decoding step, host milliseconds by phase (compiled backend only; see CallTimes). */
    public val stepPhases: StepPhases?,
) {
    public val ratio: Double?
        get() = uncachedTokensPerSecond?.let { cachedTokensPerSecond / it }
}

/** A compiled decoding step's host time, milliseconds: trace, dispatch, read back (GPU wait). */
public class StepPhases(
    public val traceMillis: Double,
    public val dispatchMillis: Double,
    public val readMillis: Double,
)

/**
 * `looplab bench generate`: random prompts of [GenerateResult.context] tokens into a freshly
 * initialised model, then greedy decoding with no stop token (every row runs the full length). One
 * untimed generation first compiles the programs.
 */
public class GenerateBench(private val backend: EagerBackend) {
    public fun measure(
        model: BenchModel,
        mode: BenchMode,
        batch: Int,
        context: Int,
        newTokens: Int,
        uncachedTokens: Int,
        fuse: Boolean = false,
    ): GenerateResult {
        val lm = Models.build(model.spec, model.vocabSize)
        ParameterStore(lm.parameters, backend, seed = 1).use { store ->
            val executor =
                if (fuse) CompiledExecutor(backend, mode.precision, optimizeInference = true)
                else Execution.executor(mode.backend, mode.precision, backend)
            try {
                val generator = Generator(lm, store, executor, backend.manager)
                val random = Random(7)
                val prompts =
                    List(batch) { IntArray(context) { random.nextInt(3, model.vocabSize) } }
                val horizon = context + newTokens
                val capacity =
                    ((lm as? looplab.models.decode.CachedDecoding)?.memoryTokens ?: 0)
                        .let { it + horizon }
                        .let { (it + 63) / 64 * 64 }
                // Untimed: compiles the prefill and step programs of this capacity.
                // Three steps: an optimizing executor profiles a program's first two runs.
                repeat(if (fuse) 2 else 1) {
                    generator.prefill(prompts, capacity, horizon).second.use { state ->
                        repeat(3) {
                            generator.stepGreedy(
                                state,
                                IntArray(batch) { 1 },
                                IntArray(batch) { context + it },
                            )
                        }
                    }
                }
                val wholeStart = System.nanoTime()
                generator.generate(prompts, SamplingConfig(maxNewTokens = newTokens))
                val whole = batch * newTokens / ((System.nanoTime() - wholeStart) / 1e9)
                val prefillStart = System.nanoTime()
                val (first, state) = generator.prefill(prompts, capacity, horizon)
                val prefill = (System.nanoTime() - prefillStart) / 1e6
                val times = (executor as? CompiledExecutor)?.statefulTimes
                times?.reset()
                val decodeStart = System.nanoTime()
                state.use {
                    var next =
                        IntArray(batch) { row ->
                            argmax(first, row * model.vocabSize, model.vocabSize)
                        }
                    for (step in 0 until newTokens - 1) next =
                        generator.stepGreedy(state, next, IntArray(batch) { context + step })
                }
                val cached = batch * (newTokens - 1) / ((System.nanoTime() - decodeStart) / 1e9)
                val phases =
                    times?.let {
                        val n = it.calls.coerceAtLeast(1) * 1e6
                        StepPhases(it.traceNanos / n, it.dispatchNanos / n, it.readNanos / n)
                    }
                val uncached =
                    if (uncachedTokens <= 0) null
                    else {
                        generator.uncached(prompts, SamplingConfig(maxNewTokens = 1))
                        val start = System.nanoTime()
                        generator.uncached(prompts, SamplingConfig(maxNewTokens = uncachedTokens))
                        batch * uncachedTokens / ((System.nanoTime() - start) / 1e9)
                    }
                return GenerateResult(
                    model.name,
                    if (fuse) "$mode+fuse" else mode.toString(),
                    batch,
                    context,
                    prefill,
                    cached,
                    uncached,
                    whole,
                    phases,
                )
            } finally {
                (executor as? AutoCloseable)?.close()
            }
        }
    }

    private fun argmax(values: FloatArray, offset: Int, size: Int): Int {
        var best = 0
        for (i in 1 until size) if (values[offset + i] > values[offset + best]) best = i
        return best
    }
}
