package looplab.pipelines.sft

import looplab.curriculum.chat.ChatBatch
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.ModelOutput
import looplab.models.PackedSequences
import looplab.models.Pass
import looplab.models.eager.ParameterStore
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.pipelines.train.MicroBatch
import looplab.pipelines.train.Objective
import looplab.pipelines.train.StepLoss

/**
 * Next-token prediction on chat rows, the objective of SFT: the loss is the mean over the tokens
 * the chat mask trains (the assistant's, its closing tags and end token included), never the
 * system's, the user's or padding. With [packed], rows hold several conversations and attention
 * stays inside each (document-causal); otherwise one conversation per row, causal as usual.
 */
public class ChatObjective(
    private val executor: Executor,
    private val model: LanguageModel,
    private val store: ParameterStore,
    private val packed: Boolean,
) : Objective<ChatBatch> {
    init {
        require(!packed || model is PackedSequences) {
            "${model::class.simpleName} cannot run packed rows"
        }
    }

    override fun split(batch: ChatBatch, count: Int): List<MicroBatch<ChatBatch>> {
        if (count == 1) return listOf(MicroBatch(batch, 1.0))
        val rows = batch.tokens.batch
        val per = (rows + count - 1) / count
        val parts =
            (0 until count)
                .map { it * per }
                .filter { it < rows }
                .map { from -> batch.rows(from, minOf(rows, from + per)) }
        val counted = parts.map { part -> part.tokens.mask.sumOf { it.toDouble() } }
        val total = counted.sum()
        return parts.mapIndexed { i, part ->
            MicroBatch(part, if (total > 0) counted[i] / total else 1.0 / parts.size)
        }
    }

    override fun forwardBackward(micro: ChatBatch, pass: Pass, lossScale: Double): StepLoss {
        val value =
            executor.run(store, train = true, lossScale = lossScale) { ops, params ->
                listOf(loss(ops, params, micro, pass).loss)
            }
        return StepLoss(value[0][0].toDouble())
    }

    override fun tokens(batch: ChatBatch): Long = batch.tokens.tokens.toLong()

    /** The mean loss over [batches] (each the mean over its trained tokens), without gradients. */
    public fun loss(batches: List<ChatBatch>): Double =
        batches
            .map { batch ->
                executor
                    .run(store, train = false) { ops, params ->
                        listOf(loss(ops, params, batch, Pass.Inference).loss)
                    }[0][0]
                    .toDouble()
            }
            .average()

    private fun loss(ops: Ops, params: Params, batch: ChatBatch, pass: Pass): ModelOutput {
        val t = batch.tokens
        val inputs = ops.tokens(t.inputs, t.batch, t.length)
        val targets = ops.tokens(t.targets, t.batch, t.length)
        val mask = ops.floats(t.mask, listOf(t.batch, t.length))
        return if (packed) {
            (model as PackedSequences).packedLoss(
                ops,
                params,
                inputs,
                targets,
                mask,
                ops.tokens(batch.segments, t.batch, t.length),
                pass,
            )
        } else {
            model.loss(ops, params, inputs, targets, mask, pass)
        }
    }

    private fun ChatBatch.rows(from: Int, until: Int): ChatBatch {
        val length = tokens.length
        val part =
            tokens.let { t ->
                val span = from * length until until * length
                looplab.curriculum.data.TokenBatch(
                    t.inputs.sliceArray(span),
                    t.targets.sliceArray(span),
                    t.mask.sliceArray(span),
                    until - from,
                    length,
                    tokens = (t.tokens.toLong() * (until - from) / t.batch).toInt(),
                )
            }
        return ChatBatch(part, segments.sliceArray(from * length until until * length))
    }
}
