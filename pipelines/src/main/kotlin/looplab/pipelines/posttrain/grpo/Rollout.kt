package looplab.pipelines.posttrain.grpo

import java.nio.file.Path
import looplab.pipelines.run.TensorFile

/**
 * One generation batch of GRPO, ready to train on: [rows] sequences (prompt, completion, padding)
 * of [length] positions, laid out group after group. At position t a row reads `inputs[t]` and is
 * scored on `targets[t]`; [mask] is 1 exactly where the target is a completion token (its EOS
 * included when it stopped). [oldLogProbs] (the policy that sampled) and [refLogProbs] (the frozen
 * starting model; null when β = 0) were computed once, right after sampling, and stay constant for
 * the μ updates on this batch.
 */
internal class Rollout(
    /** 0-based generation batch number within the stage. */
    val index: Long,
    val rows: Int,
    val length: Int,
    val inputs: IntArray,
    val targets: IntArray,
    val mask: FloatArray,
    /** One per row: the group-relative advantage. */
    val advantages: FloatArray,
    val oldLogProbs: FloatArray,
    val refLogProbs: FloatArray?,
    /** What sampling and scoring found, logged with the batch's first update. */
    val stats: Map<String, Double>,
) {
    /** Completion tokens the loss counts. */
    val completionTokens: Long
        get() = mask.sumOf { it.toDouble() }.toLong()

    /** Rows [from, until) as a rollout of their own (a micro-batch). */
    fun rows(from: Int, until: Int): Rollout {
        val span = from * length until until * length
        return Rollout(
            index,
            until - from,
            length,
            inputs.sliceArray(span),
            targets.sliceArray(span),
            mask.sliceArray(span),
            advantages.sliceArray(from until until),
            if (oldLogProbs.isEmpty()) oldLogProbs else oldLogProbs.sliceArray(span),
            refLogProbs?.sliceArray(span),
            stats,
        )
    }

    /**
     * Writes this rollout to [path], exactly (token ids are below 2^24, so floats hold them
     * exactly).
     */
    fun write(path: Path) {
        val tensors =
            linkedMapOf(
                "index" to floatArrayOf(index.toFloat()),
                "shape" to floatArrayOf(rows.toFloat(), length.toFloat()),
                "inputs" to FloatArray(inputs.size) { inputs[it].toFloat() },
                "targets" to FloatArray(targets.size) { targets[it].toFloat() },
                "mask" to mask,
                "advantages" to advantages,
                "old" to oldLogProbs,
            )
        refLogProbs?.let { tensors["ref"] = it }
        stats.forEach { (name, value) -> tensors["stat.$name"] = floatArrayOf(value.toFloat()) }
        TensorFile.write(path, tensors)
    }

    companion object {
        fun read(path: Path): Rollout {
            val t = TensorFile.read(path)
            val shape = t.getValue("shape")
            fun ints(name: String) =
                t.getValue(name).let { f -> IntArray(f.size) { f[it].toInt() } }
            return Rollout(
                t.getValue("index")[0].toLong(),
                shape[0].toInt(),
                shape[1].toInt(),
                ints("inputs"),
                ints("targets"),
                t.getValue("mask"),
                t.getValue("advantages"),
                t.getValue("old"),
                t["ref"],
                t.filterKeys { it.startsWith("stat.") }
                    .entries
                    .associate { (k, v) -> k.removePrefix("stat.") to v[0].toDouble() },
            )
        }
    }
}

/**
 * What the training loop gets each step: a rollout and which of its μ updates this is (0-based); a
 * micro-batch also knows its [weight] in the step's loss.
 */
internal class GrpoBatch(val rollout: Rollout, val update: Int, val weight: Double = 1.0)
