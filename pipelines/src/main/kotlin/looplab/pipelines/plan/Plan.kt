package looplab.pipelines.plan

import kotlinx.serialization.Serializable
import looplab.dsl.ExperimentSpec
import looplab.dsl.LengthRange

/**
 * What an experiment will do, resolved and counted before anything runs: the spec with every
 * default filled in, each model's size and cost, the data schedule and the stages in order.
 */
@Serializable
public data class Plan(
    /** The resolved spec: running it again reproduces this plan exactly. */
    val experiment: ExperimentSpec,
    val tokenizer: String,
    val vocabSize: Int,
    val data: DataPlan,
    val models: List<ModelPlan>,
    val stages: List<StagePlan>,
    /**
     * The `--set path=value` overrides applied to the experiment (already part of [experiment]).
     */
    val overrides: List<String> = emptyList(),
)

/** The training mixture. */
@Serializable
public data class DataPlan(
    val tasks: List<TaskPlan>,
    /** Tokens of the longest training example (BOS … EOS, minus one: what the model reads). */
    val longestExample: Int,
    /** Mean tokens per training example, measured on 2,000 samples of the stream. */
    val meanExample: Double,
    /**
     * The language corpus, its fixed train/validation split and what it costs; null without
     * language data.
     */
    val language: LanguagePlan? = null,
    /**
     * The split curriculum's phases, fixed in steps of the first pretraining stage; empty: one
     * mixture throughout.
     */
    val phases: List<PhasePlan> = emptyList(),
    /** The per-task curriculum, in words; null: none. */
    val taskCurriculum: String? = null,
)

/** A corpus as the run will see it. */
@Serializable
public data class LanguagePlan(
    val corpus: String,
    val documents: Int,
    val validationDocuments: Int,
    /** The held-out rule, e.g. "document i is held out when i % 20 == 19". */
    val split: String,
    val trainTokens: Int,
    val validationTokens: Int,
    val trainBytes: Long,
    val validationBytes: Long,
    /** gzip -9 on the held-out text, bits per byte: what a model has to beat. */
    val gzipBitsPerByte: Double,
    /** Training sequence length at the start, then (step, length) changes. */
    val sequenceLength: Int,
    val sequenceSchedule: List<Pair<Long, Int>> = emptyList(),
)

/** One phase of the split curriculum. */
@Serializable
public data class PhasePlan(
    val tokens: Long,
    val fromStep: Long,
    val untilStep: Long,
    val algorithmic: Double,
    val language: Double,
    val taskWeights: Map<String, Double> = emptyMap(),
)

@Serializable
public data class TaskPlan(
    val task: String,
    val weight: Double,
    val lengthUnit: String,
    val train: LengthRange,
    val ood: List<Int>,
    /**
     * Exact-match accuracy of guessing, averaged over the training lengths and over the OOD grid.
     */
    val chanceIid: Double = 0.0,
    val chanceOod: Double = 0.0,
)

/** One model variant, resolved and counted. */
@Serializable
public data class ModelPlan(
    val name: String,
    val width: Int,
    val heads: Int,
    val headSize: Int,
    val ffnHidden: Int,
    val blocks: Int,
    val loops: Int,
    val effectiveDepth: Int,
    val contextLength: Int,
    val physicalParams: Long,
    val effectiveParams: Long,
    val forwardFlopsPerToken: Long,
    val trainingFlopsPerToken: Long,
    /** Key/value heads (fewer than [heads] with GQA). */
    val kvHeads: Int = heads,
    /** Rows of the embedding table: the model's vocabulary override, or the tokenizer's size. */
    val vocabRows: Int = 0,
    /** The model's parts in words (positions, mixer, MoE, loop parts, heads...). */
    val parts: List<String> = emptyList(),
    /**
     * Physical parameters one token's inference forward uses (MoE: shared + top-k routed experts;
     * early exit: the loops run).
     */
    val activeParams: Long = 0,
    /**
     * Parameters one token's inference forward applies, each use counted (effective, over
     * [activeLoops] loops).
     */
    val activeEffectiveParams: Long = 0,
    /** Loops an inference forward runs (the early-exit loop, or all; with ACT, at most). */
    val activeLoops: Int = 0,
)

/** One stage in order; training stages say how long they run and what a step costs in memory. */
@Serializable
public data class StagePlan(
    val id: String,
    val kind: String,
    val from: String? = null,
    val steps: Long? = null,
    val tokens: Long? = null,
    val batchSize: Int? = null,
    /** Estimated peak training memory per model variant, in bytes (fp32, eager). */
    val memoryBytes: Map<String, Long> = emptyMap(),
)
