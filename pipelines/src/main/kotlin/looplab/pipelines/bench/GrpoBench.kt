package looplab.pipelines.bench

import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatSource
import looplab.curriculum.chat.WordProblemGenerator
import looplab.curriculum.text.ByteTokenizer
import looplab.dsl.AdamW
import looplab.dsl.GrpoSpec
import looplab.dsl.Steps
import looplab.dsl.experiment
import looplab.models.Models
import looplab.models.Pass
import looplab.models.decode.Generator
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.posttrain.grpo.GrpoBatch
import looplab.pipelines.posttrain.grpo.GrpoObjective
import looplab.pipelines.posttrain.grpo.RolloutMaker
import looplab.pipelines.train.Execution

/**
 * One GRPO step, timed by phase: sampling, scoring (policy and reference log-probs), training
 * (forward, backward, optimizer).
 */
public data class GrpoStepTiming(
    val model: String,
    val mode: String,
    val prompts: Int,
    val groupSize: Int,
    val promptTokens: Double,
    val generatedTokens: Long,
    val generationSeconds: Double,
    val scoringSeconds: Double,
    /** Positions (rows × padded length) run through the model per pass. */
    val positions: Long,
    val trainSeconds: Double,
) {
    val generationTokensPerSecond: Double
        get() = generatedTokens / generationSeconds

    val scoringTokensPerSecond: Double
        get() = 2 * positions / scoringSeconds

    val trainTokensPerSecond: Double
        get() = positions / trainSeconds

    val total: Double
        get() = generationSeconds + scoringSeconds + trainSeconds
}

/**
 * Times GRPO steps on freshly initialised models: [GrpoSpec.promptsPerStep] word problems
 * (byte-tokenised), [GrpoSpec.groupSize] sampled completions each of up to [GrpoSpec.maxNewTokens]
 * tokens (an untrained model rarely stops, so every completion runs to the limit: the worst case),
 * scored by the policy and the reference (β > 0), and one update.
 */
public class GrpoBench(private val backend: EagerBackend) {
    public fun measure(
        bench: BenchModel,
        mode: BenchMode,
        prompts: Int,
        groupSize: Int,
        maxNewTokens: Int,
        warmup: Int,
        hostSampling: Boolean = false,
    ): GrpoStepTiming {
        val stage =
            GrpoSpec(
                "grpo",
                "base",
                Steps(1),
                promptsPerStep = prompts,
                groupSize = groupSize,
                maxNewTokens = maxNewTokens,
            )
        val model = Models.build(bench.spec, bench.vocabSize)
        require(bench.vocabSize >= ByteTokenizer.vocabSize) {
            "${bench.name}'s vocabulary is smaller than the byte tokenizer's"
        }
        val executor = Execution.executor(mode.backend, mode.precision, backend)
        try {
            ParameterStore(model.parameters, backend, 1).use { store ->
                ParameterStore(model.parameters, backend, 1).use { reference ->
                    reference.load(store.snapshot())
                    val mixture =
                        ChatMixture(listOf(ChatSource.Generated(WordProblemGenerator, 1.0)), 1)
                    val maker =
                        RolloutMaker(
                            stage,
                            model,
                            store,
                            reference,
                            executor,
                            Generator(
                                model,
                                store,
                                executor,
                                backend.manager,
                                chooseOnDevice = !hostSampling,
                            ),
                            ByteTokenizer,
                            mixture,
                            1,
                        )
                    val objective = GrpoObjective(stage, executor, model, store)
                    val optimizer =
                        Execution.optimizer(
                            mode.backend,
                            mode.optimizerSpec as? AdamW ?: AdamW(),
                            store,
                            backend,
                        )
                    try {
                        var last: GrpoStepTiming? = null
                        repeat(warmup + 1) { step ->
                            val rollout = maker.make(step.toLong())
                            val started = System.nanoTime()
                            optimizer.zeroGradients()
                            objective.split(GrpoBatch(rollout, 0), 1).forEach {
                                objective.forwardBackward(
                                    it.batch,
                                    Pass(training = true, step = step.toLong()),
                                    it.weight,
                                )
                            }
                            optimizer.step(1e-6, 1.0)
                            val train = (System.nanoTime() - started) / 1e9
                            val generated =
                                (rollout.stats.getValue("completion_length") * rollout.rows)
                                    .toLong()
                            // A row's first trained target follows its last prompt token.
                            val promptTokens =
                                (0 until rollout.rows).sumOf { r ->
                                    (0 until rollout.length).first {
                                        rollout.mask[r * rollout.length + it] == 1f
                                    } + 1
                                } / rollout.rows.toDouble()
                            last =
                                GrpoStepTiming(
                                    bench.name,
                                    if (hostSampling) "$mode+host-sampling" else mode.toString(),
                                    prompts,
                                    groupSize,
                                    promptTokens,
                                    generated,
                                    rollout.stats.getValue("generation_seconds"),
                                    rollout.stats.getValue("scoring_seconds"),
                                    rollout.rows.toLong() * rollout.length,
                                    train,
                                )
                        }
                        return last!!
                    } finally {
                        (optimizer as? AutoCloseable)?.close()
                    }
                }
            }
        } finally {
            (executor as? AutoCloseable)?.close()
        }
    }

    public companion object {
        /** A model small enough to try the bench on a CPU (`--models tiny`). */
        public val tiny: BenchModel =
            experiment("bench") {
                    model("tiny") {
                        width = 64
                        heads = 2
                        layers = 2
                        contextLength = 512
                        vocabSize = ByteTokenizer.vocabSize
                    }
                }
                .models
                .single()
                .let { BenchModel("tiny", it, ByteTokenizer.vocabSize, 1) }
    }
}
