package looplab.pipelines.train

import looplab.curriculum.data.Batcher
import looplab.curriculum.data.Seeds
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.data.TokenBatch
import looplab.curriculum.language.LanguageBatches
import looplab.curriculum.schedule.Draw
import looplab.curriculum.schedule.SequenceSchedule
import looplab.curriculum.schedule.SplitSchedule
import looplab.curriculum.schedule.StepPhase

/**
 * The batches of a training stage. Batch `i` is a pure function of `i` and of the [Draw] the
 * curriculum fixed for the segment it falls in: the split schedule picks algorithmic or language
 * from (seed, i); an algorithmic batch holds samples `i·E … i·E + E - 1` of the mixture (E examples
 * per algorithmic batch, the batch size B unless the data sets its own); a language batch holds
 * windows drawn from (seed, i, row) at the scheduled length. Producers can make batches in any
 * order, and a resumed run continues with exactly the batch it would have seen.
 */
public class TrainingData(
    private val mixture: TaskMixture?,
    private val batcher: Batcher?,
    private val batchSize: Int,
    seed: Long,
    /** Examples in one algorithmic batch (validation batches too). */
    private val examplesPerBatch: Int = batchSize,
    private val language: LanguageBatches? = null,
    private val languageValidation: IntArray? = null,
    private val split: SplitSchedule =
        SplitSchedule(
            listOf(
                StepPhase(
                    Long.MAX_VALUE,
                    if (mixture != null) 1.0 else 0.0,
                    if (mixture == null) 1.0 else 0.0,
                )
            ),
            seed,
        ),
    private val lengths: SequenceSchedule = SequenceSchedule(0),
    /**
     * The stream position of this stage's batch 0: a stage that continues another starts after that
     * one's last batch.
     */
    private val firstBatch: Long = 0,
) {
    private val heldOut = mixture?.let { TaskMixture(it.tasks, Seeds.mix(seed, VALIDATION_STREAM)) }

    public fun batch(stageIndex: Long, draw: Draw? = null): TokenBatch {
        val index = firstBatch + stageIndex
        if (split.isLanguage(index)) return language!!.batch(index, lengths.lengthAt(index))
        val mix = mixture!!
        val phase = split.phaseAt(index)
        val effective = reweighted(draw ?: mix.plainDraw, phase)
        return batcher!!.batch(
            (0 until examplesPerBatch).map {
                mix.sample(index * examplesPerBatch + it, effective).example
            }
        )
    }

    /**
     * The last draw reweighted for a phase; a draw and a phase hold for a whole segment, so most
     * batches reuse it.
     */
    @Volatile private var lastReweighted: Triple<Draw, StepPhase, Draw>? = null

    /**
     * [base] with the phase's task weights (given in absolute terms) replacing the mixture's own.
     */
    private fun reweighted(base: Draw, phase: StepPhase): Draw {
        if (phase.taskWeights.isEmpty()) return base
        lastReweighted?.let { (b, p, effective) -> if (b === base && p === phase) return effective }
        val mix = mixture!!
        val effective =
            base.copy(
                weights =
                    mix.tasks.mapIndexed { i, t ->
                        base.weights[i] *
                            (phase.taskWeights[t.task.id.name]?.let { it / t.weight } ?: 1.0)
                    }
            )
        lastReweighted = Triple(base, phase, effective)
        return effective
    }

    /**
     * Batches the training stream never yields (another seed; held-out documents): loss on them
     * measures generalisation, not recall.
     */
    public fun validationBatches(count: Int = 4): List<TokenBatch> {
        val algorithmic =
            heldOut
                ?.let { held ->
                    (0 until count).map { b ->
                        batcher!!.batch(
                            (0 until examplesPerBatch).map {
                                held.sample(b.toLong() * examplesPerBatch + it).example
                            }
                        )
                    }
                }
                .orEmpty()
        val text =
            languageValidation
                ?.let {
                    LanguageBatches.windows(
                        it,
                        lengths.lengthAt(0),
                        count * batchSize * lengths.lengthAt(0),
                        rows = batchSize,
                    )
                }
                .orEmpty()
        return algorithmic + text
    }

    private companion object {
        const val VALIDATION_STREAM = 0x56414C49L
    }
}
