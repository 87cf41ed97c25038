package looplab.pipelines.sweep

import kotlinx.serialization.Serializable
import looplab.dsl.ExperimentSpec
import looplab.dsl.ModelSpec
import looplab.dsl.Size
import looplab.dsl.SweepGrid
import looplab.dsl.UserFacingError

/** One cell of a sweep: a single variant, with one seed and (when the grid has sizes) one size. */
@Serializable
public data class SweepCell(
    val index: Int,
    /** The cell's folder name, e.g. `003-shared_loop-s2-125m`. */
    val id: String,
    val variant: String,
    val seed: Long,
    /** The ladder rung's name (`125m`), or null for the variant's own size. */
    val size: String? = null,
)

/** Thrown when a grid does not fit its experiment (an unknown variant, say). */
public class SweepCellException(message: String) :
    IllegalArgumentException(message), UserFacingError

/** Expands a grid over an experiment into cells, and narrows the experiment to each cell. */
public object SweepCells {
    /** Every cell of [grid] over [experiment], in order: variant, then seed, then size. */
    public fun expand(
        experiment: ExperimentSpec,
        grid: SweepGrid,
    ): List<Pair<SweepCell, ExperimentSpec>> {
        val declared = experiment.models.map { it.name }
        val unknown = grid.variants.filter { it !in declared }
        if (unknown.isNotEmpty()) {
            throw SweepCellException(
                "the grid names variants that ${experiment.name} does not declare: ${unknown.joinToString()} (it declares ${declared.joinToString()})"
            )
        }
        val variants = grid.variants.ifEmpty { declared }
        // No seed axis: the experiment's own seeds, each a cell.
        val seeds = grid.seeds.ifEmpty { experiment.seeds.ifEmpty { listOf(experiment.seed) } }
        val sizes: List<Size?> = grid.sizes.ifEmpty { listOf(null) }
        val cells = mutableListOf<Pair<SweepCell, ExperimentSpec>>()
        for (variant in variants) for (seed in seeds) for (size in sizes) {
            val index = cells.size
            val sizeName = size?.let(SweepGrid::nameOf)
            val id =
                "%03d-%s-s%d%s".format(index, safe(variant), seed, sizeName?.let { "-$it" } ?: "")
            cells +=
                SweepCell(index, id, variant, seed, sizeName) to
                    narrow(experiment, variant, seed, size)
        }
        return cells
    }

    /**
     * [experiment] with only [variant], seeded with [seed] alone (a cell is one run, whatever seeds
     * the experiment lists), and at [size] when one is given. A size sets the width, heads,
     * key/value heads, context length and vocabulary of the rung, and its SwiGLU width by LLaMA's
     * rule; a plain stack (one loop, no prelude or coda) takes the rung's depth too, while a looped
     * core keeps its blocks and loops, which are what the variant studies.
     */
    public fun narrow(
        experiment: ExperimentSpec,
        variant: String,
        seed: Long = experiment.seed,
        size: Size? = null,
    ): ExperimentSpec {
        val model =
            experiment.models.firstOrNull { it.name == variant }
                ?: throw SweepCellException(
                    "${experiment.name} has no variant \"$variant\" (it declares ${experiment.models.joinToString { it.name }})"
                )
        return experiment.copy(
            seed = seed,
            seeds = emptyList(),
            models = listOf(if (size == null) model else model.sized(size)),
        )
    }

    private fun ModelSpec.sized(size: Size): ModelSpec {
        val plainStack = recursive.loops == 1 && prelude == 0 && coda == 0
        return copy(
            width = size.width,
            heads = size.heads,
            kvHeads = size.kvHeads,
            contextLength = size.contextLength,
            vocabSize = size.vocabSize,
            ffnHidden = null,
            recursive = if (plainStack) recursive.copy(blocks = size.layers) else recursive,
        )
    }

    private fun safe(name: String): String = name.replace(Regex("[^A-Za-z0-9_.-]"), "_")
}
