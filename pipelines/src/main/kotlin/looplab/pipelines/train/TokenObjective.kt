package looplab.pipelines.train

import looplab.curriculum.data.TokenBatch
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.ModelOutput
import looplab.models.Pass
import looplab.models.eager.ParameterStore
import looplab.models.params.Params
import looplab.models.tensor.Ops

/**
 * Next-token prediction on [TokenBatch]es, the objective of pretraining. A batch splits into
 * micro-batches by rows, each weighted by its share of the batch's loss-carrying (masked-in)
 * targets: the model's loss is a mean over those targets, so the weighted micro-batch losses and
 * their gradients add up to the whole batch's, padding included.
 */
public class TokenObjective(
    private val executor: Executor,
    private val model: LanguageModel,
    private val store: ParameterStore,
) : Objective<TokenBatch> {
    override fun split(batch: TokenBatch, count: Int): List<MicroBatch<TokenBatch>> {
        if (count == 1) return listOf(MicroBatch(batch, 1.0))
        require(batch.batch % count == 0) {
            "a batch of ${batch.batch} rows does not split into $count micro-batches"
        }
        val rows = batch.batch / count
        val parts = (0 until count).map { batch.rows(it * rows, (it + 1) * rows) }
        val counted = parts.map { part -> part.mask.sumOf { it.toDouble() } }
        val total = counted.sum()
        // A batch with no loss-carrying target has loss 0 whatever the weights; equal shares keep
        // them finite.
        return parts.mapIndexed { i, part ->
            MicroBatch(part, if (total > 0) counted[i] / total else 1.0 / count)
        }
    }

    override fun forwardBackward(micro: TokenBatch, pass: Pass, lossScale: Double): StepLoss {
        var names = emptyList<String>()
        val values =
            executor.run(store, train = true, lossScale = lossScale) { ops, params ->
                val out = model.loss(ops, params, micro, pass)
                names = out.metrics.keys.toList()
                listOf(out.loss) + out.metrics.values
            }
        return StepLoss(
            values[0][0].toDouble(),
            names.zip(values.drop(1)) { name, value -> name to value[0].toDouble() }.toMap(),
        )
    }

    override fun tokens(batch: TokenBatch): Long = batch.tokens.toLong()

    /** The mean loss over [batches], without gradients. */
    public fun loss(batches: List<TokenBatch>): Double =
        batches
            .map { batch ->
                executor
                    .run(store, train = false) { ops, params ->
                        listOf(model.loss(ops, params, batch).loss)
                    }[0][0]
                    .toDouble()
            }
            .average()
}

/**
 * Rows [from, until) of this batch, at the same padded length. Its token count is the rows' share
 * of the batch's.
 */
internal fun TokenBatch.rows(from: Int, until: Int): TokenBatch {
    val span = from * length until until * length
    return TokenBatch(
        inputs.sliceArray(span),
        targets.sliceArray(span),
        mask.sliceArray(span),
        until - from,
        length,
        tokens = (tokens.toLong() * (until - from) / batch).toInt(),
    )
}

/** The model's loss on a [TokenBatch]. */
internal fun LanguageModel.loss(
    ops: Ops,
    params: Params,
    batch: TokenBatch,
    pass: Pass = Pass.Inference,
): ModelOutput =
    loss(
        ops,
        params,
        inputs = ops.tokens(batch.inputs, batch.batch, batch.length),
        targets = ops.tokens(batch.targets, batch.batch, batch.length),
        mask = ops.floats(batch.mask, listOf(batch.batch, batch.length)),
        pass = pass,
    )
