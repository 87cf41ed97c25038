package looplab.pipelines.posttrain.grpo

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.exp
import kotlin.math.ln
import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatSource
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.chat.DigitSums
import looplab.curriculum.text.ByteTokenizer
import looplab.dsl.ConstantLr
import looplab.models.Models
import looplab.models.Pass
import looplab.models.decode.Generator
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.pipelines.bench.GrpoLearning

/**
 * What GRPO trains on must be what was sampled: the rows' layout (prompt, completion, EOS only when
 * the completion stopped), the mask over exactly the completion, and the recorded log-probabilities
 * those of the distribution sampled at the stage's temperature. Checked against a direct
 * computation from the model's logits, at a temperature other than 1 so that a missing or doubled
 * division by it shows.
 */
class RolloutMakerSpec :
    FunSpec({
        test(
            "a rollout's rows, mask and old/reference log-probs match the prompts and the tempered policy"
        ) {
            val temperature = 0.7
            val stage =
                GrpoLearning.defaultStage(batches = 1)
                    .copy(
                        promptsPerStep = 4,
                        groupSize = 4,
                        // Long enough for one-digit sums to stop, too short for two-digit ones.
                        maxNewTokens = 4,
                        temperature = temperature,
                        lr = ConstantLr(1e-4),
                    )
            val seed = 3L
            EagerBackend().use { backend ->
                val model = Models.build(GrpoLearning.tinyModel, ByteTokenizer.vocabSize)
                ParameterStore(model.parameters, backend, seed).use { store ->
                    val executor = EagerExecutor(backend)
                    val prompts = ChatMixture(listOf(ChatSource.Generated(DigitSums, 1.0)), seed)
                    // Enough warmup that completions take the answer format (some stop, some not).
                    SupervisedWarmup.run(
                        model,
                        store,
                        executor,
                        backend,
                        ByteTokenizer,
                        prompts,
                        steps = 60,
                        batchSize = 32,
                        lr = 3e-3,
                    )
                    ParameterStore(model.parameters, backend, seed).use { reference ->
                        reference.load(store.snapshot())
                        val maker =
                            RolloutMaker(
                                stage,
                                model,
                                store,
                                reference,
                                executor,
                                Generator(model, store, executor, backend.manager),
                                ByteTokenizer,
                                prompts,
                                seed,
                            )
                        val r = maker.make(0)
                        val template = ChatTemplate(ByteTokenizer)
                        val logits =
                            executor
                                .run(store, train = false) { ops, params ->
                                    listOf(
                                        model.logits(
                                            ops,
                                            params,
                                            ops.tokens(r.inputs, r.rows, r.length),
                                            Pass.Inference,
                                        )
                                    )
                                }[0]
                        val vocab = ByteTokenizer.vocabSize
                        val eos = ByteTokenizer.eos
                        var stopped = 0
                        var cut = 0
                        var worst = 0.0
                        for (row in 0 until r.rows) {
                            val prompt =
                                template.prompt(prompts.train(row / stage.groupSize.toLong()))
                            val at = row * r.length
                            // The row reads the prompt, and each input is the previous target.
                            for (t in prompt.indices) r.inputs[at + t] shouldBe prompt[t]
                            val trained = (0 until r.length).filter { r.mask[at + it] == 1f }
                            trained.first() shouldBe prompt.size - 1
                            trained shouldBe (trained.first()..trained.last()).toList()
                            for (t in 0 until trained.last()) r.inputs[at + t + 1] shouldBe
                                r.targets[at + t]
                            val completion = trained.map { r.targets[at + it] }
                            // EOS is trained exactly when sampling stopped, and only at the end.
                            completion.dropLast(1).none { it == eos } shouldBe true
                            if (completion.last() == eos) {
                                stopped++
                                (completion.size <= stage.maxNewTokens) shouldBe true
                            } else {
                                cut++
                                completion.size shouldBe stage.maxNewTokens
                            }
                            for (t in trained) {
                                val z =
                                    DoubleArray(vocab) {
                                        logits[(at + t) * vocab + it] / temperature
                                    }
                                val top = z.max()
                                val logSum = top + ln(z.sumOf { exp(it - top) })
                                val expected = z[r.targets[at + t]] - logSum
                                worst =
                                    maxOf(worst, kotlin.math.abs(r.oldLogProbs[at + t] - expected))
                                // The reference starts as the policy: the same values.
                                r.refLogProbs!![at + t] shouldBe r.oldLogProbs[at + t]
                            }
                        }
                        worst shouldBeLessThan 1e-4
                        (stopped > 0 && cut > 0) shouldBe true
                    }
                }
            }
        }
    })
