package looplab.pipelines.metrics

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** One line of `metrics.jsonl`. */
@Serializable
public sealed interface MetricEvent {
    public val variant: String
    public val stage: String
    public val step: Long
}

/** Training progress, written every `logEvery` steps. */
@Serializable
@SerialName("train")
public data class TrainMetrics(
    override val variant: String,
    override val stage: String,
    override val step: Long,
    val loss: Double,
    val lr: Double,
    val gradNorm: Double,
    /** Non-padding tokens read so far in this stage. */
    val tokens: Long,
    val tokensPerSecond: Double,
    val elapsedSeconds: Double,
    /** Whatever else the model reports (auxiliary losses, telemetry), by name. */
    val extra: Map<String, Double> = emptyMap(),
) : MetricEvent

/** A periodic evaluation during training, or an eval stage's measurement. */
@Serializable
@SerialName("eval")
public data class EvalMetrics(
    override val variant: String,
    override val stage: String,
    override val step: Long,
    /** Mean loss on held-out batches the training stream never yields. */
    val validationLoss: Double?,
    val accuracy: List<AccuracyCell>,
    /** Held-out perplexity and bits per byte, when the experiment has language data. */
    val language: LanguageScore? = null,
    /** Decisions the curriculum took at this evaluation (difficulty changes, unlocks). */
    val notes: List<String> = emptyList(),
) : MetricEvent

/** How well a model predicts held-out text. */
@Serializable
public data class LanguageScore(
    /** Mean cross-entropy per token, in nats. */
    val loss: Double,
    val perplexity: Double,
    /**
     * Bits per UTF-8 byte of the held-out text: comparable across tokenizers and with compressors.
     */
    val bitsPerByte: Double,
    val tokens: Long,
    /** gzip -9 on the same held-out documents, for comparison. */
    val gzipBitsPerByte: Double,
)

/** Exact-match accuracy of one task at one length. */
@Serializable
public data class AccuracyCell(
    val task: String,
    val length: Int,
    /** `iid` for training lengths, `ood` for the out-of-distribution grid. */
    val split: String,
    val correct: Int,
    val total: Int,
) {
    val accuracy: Double
        get() = if (total == 0) 0.0 else correct.toDouble() / total
}

/** Mean accuracy per task of [split] (the mean over lengths, each length weighing the same). */
public fun List<AccuracyCell>.meanByTask(split: String): Map<String, Double> =
    filter { it.split == split }
        .groupBy { it.task }
        .mapValues { (_, cells) -> cells.map { it.accuracy }.average() }
