package looplab.pipelines.eval

import kotlin.random.Random
import looplab.curriculum.data.MixedTask
import looplab.curriculum.data.Seeds
import looplab.curriculum.text.Tokenizer
import looplab.pipelines.metrics.AccuracyCell

/**
 * Exact-match accuracy per task and length with greedy decoding, on the training lengths (`iid`)
 * and the out-of-distribution grid (`ood`). Samples are drawn from (seed, task, length, index), so
 * every model of an experiment is tested on the very same problems.
 */
public class AlgorithmicEvaluator(
    private val decoder: Completer,
    private val tokenizer: Tokenizer,
    private val seed: Long,
    /** Rows decoded together; bounds memory at long OOD lengths. */
    private val batchRows: Int = 128,
) {
    public fun evaluate(
        tasks: List<MixedTask>,
        samples: Int,
        maxNewTokens: Int,
    ): List<AccuracyCell> =
        tasks.flatMap { mixed ->
            val iid = (mixed.train.min..mixed.train.max).map { it to "iid" }
            val ood = mixed.ood.map { it to "ood" }
            (iid + ood).map { (length, split) -> cell(mixed, length, split, samples, maxNewTokens) }
        }

    private fun cell(
        mixed: MixedTask,
        length: Int,
        split: String,
        samples: Int,
        maxNewTokens: Int,
    ): AccuracyCell {
        val examples =
            (0 until samples).map { i ->
                mixed.task.sample(
                    Random(
                        Seeds.mix(
                            seed,
                            EVAL_STREAM,
                            Seeds.of(mixed.task.id.name),
                            length.toLong(),
                            i.toLong(),
                        )
                    ),
                    length,
                )
            }
        val prompts = examples.map { intArrayOf(tokenizer.bos) + tokenizer.encode(it.prompt) }
        var correct = 0
        // Equal prompt lengths decode together; within a group, chunks bound the batch size.
        prompts.indices
            .groupBy { prompts[it].size }
            .values
            .forEach { group ->
                group.chunked(batchRows).forEach { chunk ->
                    val outputs = decoder.complete(chunk.map { prompts[it] }, maxNewTokens)
                    // Compare ids, not decoded text: decoding drops special tokens, which would
                    // hide a stray BOS.
                    chunk.forEachIndexed { j, i ->
                        if (outputs[j].contentEquals(tokenizer.encode(examples[i].answer)))
                            correct++
                    }
                }
            }
        return AccuracyCell(mixed.task.id.name, length, split, correct, samples)
    }

    private companion object {
        /** Keeps evaluation problems apart from the training stream, which mixes (seed, index). */
        const val EVAL_STREAM = 0x45564C4CL
    }
}
