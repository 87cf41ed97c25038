package looplab.dsl

import kotlinx.serialization.Serializable

/**
 * A sweep: one experiment run as a grid of cells, each a single variant with one seed and one size.
 * [grid]'s axes multiply; an empty axis keeps what the experiment declares (every variant, its
 * seed, each variant's own size).
 */
@Serializable
public data class SweepSpec(
    val experiment: ExperimentSpec,
    val grid: SweepGrid = SweepGrid(),
    /** Resources a Slurm executor asks for; the CLI's flags override them. */
    val slurm: SlurmResources = SlurmResources(),
)

/** The axes of a sweep. */
@Serializable
public data class SweepGrid(
    /** Variant (model) names of the experiment; empty means all of them. */
    val variants: List<String> = emptyList(),
    /** Experiment seeds; empty means the experiment's own. */
    val seeds: List<Long> = emptyList(),
    /**
     * Rungs of the size ladder applied to each variant; empty means each variant's declared size.
     */
    val sizes: List<Size> = emptyList(),
) {
    public companion object {
        /**
         * Reads `variant=a,b,seed=1..3,size=nano,125m`: a `key=` starts an axis and the values
         * after it belong to it until the next key. Seeds take `1..3` ranges; sizes take the
         * ladder's names ([sizeNames]). Every mistake is reported at once, naming the piece at
         * fault.
         */
        public fun parse(text: String): SweepGrid {
            val axes = LinkedHashMap<String, MutableList<String>>()
            val errors = mutableListOf<String>()
            var current: String? = null
            for (piece in text.split(',').map { it.trim() }) {
                val key =
                    piece.substringBefore('=', missingDelimiterValue = "").takeIf { '=' in piece }
                val value = if (key != null) piece.substringAfter('=') else piece
                if (key != null) {
                    if (key !in AXES)
                        errors += "unknown axis \"$key\" (axes: ${AXES.joinToString()})"
                    if (key in axes) errors += "axis \"$key\" is given twice"
                    current = key
                    axes.getOrPut(key) { mutableListOf() }
                } else if (current == null) {
                    errors += "\"$piece\" comes before any axis (write e.g. variant=$piece)"
                    continue
                }
                if (value.isEmpty()) errors += "axis \"$current\" has an empty value"
                else axes.getValue(current!!) += value
            }
            val seeds = axes["seed"].orEmpty().flatMap { parseSeeds(it, errors) }
            val sizes =
                axes["size"].orEmpty().mapNotNull { name ->
                    sizeNames[name.lowercase()]
                        ?: null.also {
                            errors +=
                                "unknown size \"$name\" (sizes: ${sizeNames.keys.joinToString()})"
                        }
                }
            val grid = SweepGrid(axes["variant"].orEmpty(), seeds, sizes)
            listOf("variant" to grid.variants, "seed" to grid.seeds, "size" to grid.sizes)
                .forEach { (axis, values) ->
                    values
                        .groupBy { it }
                        .filter { it.value.size > 1 }
                        .keys
                        .forEach { errors += "$axis $it is listed twice" }
                }
            if (errors.isNotEmpty())
                throw SweepGridException("--grid $text: ${errors.joinToString("; ")}")
            return grid
        }

        private fun parseSeeds(value: String, errors: MutableList<String>): List<Long> {
            val range = value.split("..")
            val bounds = range.map { it.trim().toLongOrNull() }
            return when {
                range.size == 1 && bounds[0] != null -> listOf(bounds[0]!!)
                range.size == 2 && bounds.all { it != null } && bounds[0]!! <= bounds[1]!! ->
                    (bounds[0]!!..bounds[1]!!).toList()
                else ->
                    emptyList<Long>().also {
                        errors += "seed \"$value\" is not a number or a range like 1..3"
                    }
            }
        }

        private val AXES = listOf("variant", "seed", "size")

        /** The names a grid gives the size ladder's rungs, as the seeds write them. */
        public val sizeNames: Map<String, Size> =
            linkedMapOf(
                "nano" to Size.Nano,
                "50m" to Size.M50,
                "125m" to Size.M125,
                "300m" to Size.M300,
                "350m" to Size.M350,
                "760m" to Size.M760,
                "1b" to Size.B1,
                "1b-16k" to Size.B1Long,
            )

        /** A rung's name in a grid and in cell names, e.g. `125m`. */
        public fun nameOf(size: Size): String = sizeNames.entries.first { it.value == size }.key
    }
}

/** Thrown when a grid cannot be read; the message names every piece at fault. */
public class SweepGridException(message: String) :
    IllegalArgumentException(message), UserFacingError

/** What each Slurm array task asks for. Null leaves it to the cluster's defaults. */
@Serializable
public data class SlurmResources(
    val partition: String? = null,
    val account: String? = null,
    /** Wall-time limit per cell, in Slurm's syntax (`1:00:00`, `2-00:00:00`). */
    val time: String? = null,
    val gpusPerTask: Int? = null,
    val cpusPerTask: Int = 1,
    /**
     * At most this many cells run at once (`--array=0-N%K`); null means no limit of the sweep's
     * own.
     */
    val parallel: Int? = null,
)

/**
 * Declares a sweep over [experiment].
 *
 * ```
 * sweep(ladder) {
 *     grid { variants("baseline", "shared_loop"); seeds(1..3); sizes(Size.Nano, Size.M125) }
 *     slurm { partition = "gpu"; gpusPerTask = 1; time = "12:00:00"; parallel = 8 }
 * }
 * ```
 */
public fun sweep(experiment: ExperimentSpec, block: SweepBuilder.() -> Unit): SweepSpec =
    SweepBuilder(experiment).apply(block).build()

/** Builds a [SweepSpec]; every default is the spec's own. */
@LooplabDsl
public class SweepBuilder internal constructor(experiment: ExperimentSpec) {
    private var spec = SweepSpec(experiment)

    /** The axes: variants, seeds and sizes. */
    public fun grid(block: SweepGridBuilder.() -> Unit) {
        spec = spec.copy(grid = SweepGridBuilder().apply(block).build())
    }

    /** What each Slurm array task asks for. */
    public fun slurm(block: SlurmResourcesBuilder.() -> Unit) {
        spec = spec.copy(slurm = SlurmResourcesBuilder().apply(block).build())
    }

    internal fun build(): SweepSpec = spec
}

/** Builds a [SweepGrid]; an axis not named keeps the spec's default. */
@LooplabDsl
public class SweepGridBuilder internal constructor() {
    private var spec = SweepGrid()

    public fun variants(vararg names: String) {
        spec = spec.copy(variants = spec.variants + names)
    }

    public fun seeds(vararg values: Long) {
        spec = spec.copy(seeds = spec.seeds + values.toList())
    }

    public fun seeds(range: LongRange) {
        spec = spec.copy(seeds = spec.seeds + range)
    }

    public fun seeds(range: IntRange) {
        spec = spec.copy(seeds = spec.seeds + range.map { it.toLong() })
    }

    public fun sizes(vararg rungs: Size) {
        spec = spec.copy(sizes = spec.sizes + rungs)
    }

    internal fun build(): SweepGrid = spec
}

/** Builds [SlurmResources]; every default is the spec's own. */
@LooplabDsl
public class SlurmResourcesBuilder internal constructor() {
    private var spec = SlurmResources()

    public var partition: String? by
        spec(SlurmResources::partition) { s, v -> s.copy(partition = v) }
    public var account: String? by spec(SlurmResources::account) { s, v -> s.copy(account = v) }
    public var time: String? by spec(SlurmResources::time) { s, v -> s.copy(time = v) }
    public var gpusPerTask: Int? by
        spec(SlurmResources::gpusPerTask) { s, v -> s.copy(gpusPerTask = v) }
    public var cpusPerTask: Int by
        spec(SlurmResources::cpusPerTask) { s, v -> s.copy(cpusPerTask = v) }
    public var parallel: Int? by spec(SlurmResources::parallel) { s, v -> s.copy(parallel = v) }

    internal fun build(): SlurmResources = spec

    private fun <T> spec(
        read: (SlurmResources) -> T,
        write: (SlurmResources, T) -> SlurmResources,
    ) = SpecField({ spec }, { spec = it }, read, write)
}
