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

/** The version of the `results_<suite>.json` layout; readers refuse versions they do not know. */
public const val RESULTS_SCHEMA: Int = 2

/**
 * `results_<suite>.json` (algorithmic, longctx, lm, loops): the measurements of one suite for every
 * (variant, stage) of a run, with what it takes to compare them across runs.
 */
@Serializable
public data class SuiteResults(val metadata: ResultsMetadata, val results: List<SuiteEntry>)

@Serializable
public data class ResultsMetadata(
    /** A file without it predates versioning: version 1 (no seed or checksum per entry). */
    val schemaVersion: Int = 1,
    val suite: String = "algorithmic",
    val experiment: String,
    val commit: String,
    /** The seed of the run that trained these weights (and drew its evaluation problems). */
    val seed: Long,
    /**
     * Changes whenever what is measured (tasks, lengths, formats, suite settings) changes: only
     * equal versions compare.
     */
    val gridVersion: String,
    /** How answers were generated; null for suites that only score (lm). */
    val decoding: Decoding?,
    val created: String,
)

@Serializable
public data class Decoding(
    val strategy: String,
    val temperature: Double,
    val maxNewTokens: Int,
    val samplesPerCell: Int,
)

/** One (variant, stage)'s measurements in one suite; only the suite's own field is set. */
@Serializable
public data class SuiteEntry(
    val variant: String,
    val stage: String,
    /** The stage whose weights were measured. */
    val from: String,
    val seed: Long,
    /** SHA-256 of the weights measured (the checkpoint's params.bin). */
    val checkpoint: String,
    val cells: List<AccuracyCell>? = null,
    val needles: looplab.pipelines.eval.NeedleResults? = null,
    val language: looplab.pipelines.eval.SlidingWindowScore? = null,
    val loops: looplab.pipelines.eval.LoopCurves? = null,
)
