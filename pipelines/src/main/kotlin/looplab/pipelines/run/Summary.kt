package looplab.pipelines.run

import kotlinx.serialization.Serializable
import looplab.pipelines.metrics.AccuracyCell

/** `summary.json`: where every variant stands, refreshed at each evaluation. */
@Serializable
public data class RunSummary(
    val experiment: String,
    val status: String,
    val updated: String,
    val variants: List<VariantSummary>,
)

@Serializable
public data class VariantSummary(
    val name: String,
    val physicalParams: Long,
    val effectiveParams: Long,
    val status: String = "pending",
    val error: String? = null,
    val checks: List<String> = emptyList(),
    val stages: Map<String, StageSummary> = emptyMap(),
)

@Serializable
public data class StageSummary(
    val kind: String,
    val steps: Long? = null,
    val tokens: Long? = null,
    /** Seconds spent in training steps, evaluation excluded. */
    val trainSeconds: Double? = null,
    val tokensPerSecond: Double? = null,
    /** Loss at the first step. */
    val firstLoss: Double? = null,
    /** Mean loss over the last logged steps (less noisy than the very last one). */
    val finalLoss: Double? = null,
    val validationLoss: Double? = null,
    /** Mean exact-match accuracy per task, over training lengths and over the OOD grid. */
    val iidAccuracy: Map<String, Double> = emptyMap(),
    val oodAccuracy: Map<String, Double> = emptyMap(),
    /** Held-out perplexity and bits per byte at the last evaluation with language data. */
    val perplexity: Double? = null,
    val bitsPerByte: Double? = null,
)

/** `results_algorithmic.json`: every accuracy cell of the eval stages, with what it takes to compare them. */
@Serializable
public data class AlgorithmicResults(val metadata: ResultsMetadata, val results: List<VariantResults>)

@Serializable
public data class ResultsMetadata(
    val experiment: String,
    val commit: String,
    val seed: Long,
    /** Changes whenever the task grid (tasks, lengths, formats) changes: only equal versions compare. */
    val gridVersion: String,
    val decoding: Decoding,
    val created: String,
)

@Serializable
public data class Decoding(val strategy: String, val temperature: Double, val maxNewTokens: Int, val samplesPerCell: Int)

@Serializable
public data class VariantResults(val variant: String, val stage: String, val from: String, val cells: List<AccuracyCell>)
