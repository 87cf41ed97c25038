package looplab.dsl

import kotlinx.serialization.Serializable

/**
 * A whole experiment: data, one or more model variants, and the pipeline each variant goes through.
 * Immutable and serializable; builders produce it, interpreters (planner, runner, JSON) consume it.
 */
@Serializable
public data class ExperimentSpec(
    val name: String,
    /** Seeds initialisation, data order and evaluation samples. */
    val seed: Long = 1234,
    /**
     * Seeds as an axis: every variant is trained once per seed (each seed a run of its own, the
     * experiment with `seed` set to it). Empty: one run with [seed].
     */
    val seeds: List<Long> = emptyList(),
    val device: DeviceSpec = Cpu,
    /** Eager op-by-op execution, or compiled TorchScript programs. */
    val backend: Backend = Backend.Eager,
    /** Number formats in training; anything but fp32 needs the compiled backend. */
    val precision: Precision = Precision.Fp32,
    val data: DataSpec = DataSpec(),
    val models: List<ModelSpec> = emptyList(),
    val pipeline: PipelineSpec = PipelineSpec(emptyList()),
)

/**
 * Declares an experiment.
 *
 * ```
 * val ablation = experiment("nano-ablation") {
 *     seed = 1234
 *     data { algorithmic(Task.Parity, Task.Addition, Task.Copy) }
 *     model("baseline") { width = 128; heads = 4; layers = 4; contextLength = 64 }
 *     model("shared_loop") { width = 128; heads = 4; recursive(blocks = 1, loops = 4); contextLength = 64 }
 *     pipeline {
 *         val base = pretrain { budget = 2_000.steps; lr = cosine(3e-3, warmup = 100.steps) }
 *         eval(base) { algorithmic(samples = 100) }
 *     }
 * }
 * ```
 */
public fun experiment(name: String, block: ExperimentBuilder.() -> Unit): ExperimentSpec =
    ExperimentBuilder(name).apply(block).build()

/** Builds an [ExperimentSpec]; every default is the spec's own. */
@LooplabDsl
public class ExperimentBuilder internal constructor(name: String) {
    private var spec = ExperimentSpec(name)

    public var seed: Long by spec(ExperimentSpec::seed) { s, v -> s.copy(seed = v) }
    public var device: DeviceSpec by spec(ExperimentSpec::device) { s, v -> s.copy(device = v) }
    public var backend: Backend by spec(ExperimentSpec::backend) { s, v -> s.copy(backend = v) }
    public var precision: Precision by
        spec(ExperimentSpec::precision) { s, v -> s.copy(precision = v) }

    /** Trains every variant with this many seeds: [seed], seed + 1, ... (1: one run). */
    public var seeds: Int = 1
    private var seedList: List<Long>? = null

    /** Trains every variant once per seed of [list]. */
    public fun seeds(vararg list: Long) {
        seedList = list.toList()
    }

    /** Declares the training data. */
    public fun data(block: DataBuilder.() -> Unit) {
        spec = spec.copy(data = DataBuilder().apply(block).build())
    }

    /** Declares a model variant named [name]; every variant runs the same pipeline. */
    public fun model(name: String, block: ModelBuilder.() -> Unit) {
        spec = spec.copy(models = spec.models + ModelBuilder(name).apply(block).build())
    }

    /** Declares the stages every model variant goes through. */
    public fun pipeline(block: PipelineBuilder.() -> Unit) {
        spec = spec.copy(pipeline = PipelineBuilder().apply(block).build())
    }

    // `seeds = n` counts up from the seed as it is when the experiment is built, whatever the order
    // of the settings.
    internal fun build(): ExperimentSpec =
        spec.copy(
            seeds = seedList ?: if (seeds <= 1) emptyList() else (0 until seeds).map { seed + it }
        )

    private fun <T> spec(
        read: (ExperimentSpec) -> T,
        write: (ExperimentSpec, T) -> ExperimentSpec,
    ) = SpecField({ spec }, { spec = it }, read, write)
}
