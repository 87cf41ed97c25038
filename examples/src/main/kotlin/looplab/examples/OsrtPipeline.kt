package looplab.examples

import looplab.dsl.*

/**
 * Seed 004's post-training pipeline, pretrain → SFT → GRPO → eval, at a size a 2-core CPU runs in
 * minutes: nano-osrt v3 (2 blocks × 6 loops with loop adapters) at width 64, pretrained on three
 * algorithmic tasks in byte tokens, then taught to answer the same tasks posed as chat questions
 * (answer inside the answer tags, loss on the assistant only, packed conversations, HRA adapters at
 * 5× the rate), then reinforced with GRPO on the strict answer reward; each stage's weights are
 * then evaluated on the same held-out questions.
 */
private val chatTasks = listOf(Task.Copy, Task.Successor, Task.Parity)

private fun osrtPipeline(name: String, full: Boolean) =
    experiment(name) {
        seed = 1234
        data {
            tokenizer = if (full) Tokenizers.neox else Tokenizers.bytes
            algorithmic(chatTasks)
        }
        model("osrt-v3") {
            preset(Architecture.OsrtV3)
            if (!full) {
                cpuSize()
                contextLength = 128
            }
        }
        if (full) device = Gpu(0)
        pipeline {
            val base = pretrain {
                budget = if (full) 20.M.tokens else 600.steps
                batchSize = if (full) 64 else 32
                lr =
                    cosine(
                        peak = if (full) 3e-4 else 3e-3,
                        warmup = if (full) 500.steps else 40.steps,
                    )
                evalSamples = 8
            }
            val tuned =
                sft(from = base) {
                    budget = if (full) 2_000.steps else 150.steps
                    batchSize = 16
                    lr = cosine(peak = if (full) 1e-4 else 1e-3, warmup = 10.steps)
                    data { taskQuestions(chatTasks) }
                    adapters(rank = if (full) 256 else 16)
                    evalEvery = if (full) 500.steps else 50.steps
                    evalSamples = if (full) 200 else 48
                }
            val rl =
                grpo(from = tuned) {
                    // CPU: 60 batches of 8 prompts × 8, two updates each (μ), about 2 minutes.
                    budget = if (full) 200.steps else 60.steps
                    promptsPerStep = if (full) 16 else 8
                    groupSize = if (full) 16 else 8
                    updatesPerBatch = if (full) 1 else 2
                    maxNewTokens = 40
                    lr = constant(if (full) 1e-6 else 1e-4)
                    prompts { taskQuestions(chatTasks) }
                    // The same held-out prompts as the sft stage's evaluation, so the two compare.
                    evalSamples = if (full) 200 else 48
                }
            // Every stage's weights answer the same held-out chat questions (the SFT stage's data,
            // its held-out seeds), so `looplab compare` puts the stages side by side; the
            // pretrained
            // model also takes the plain algorithmic grid it was trained on.
            val questions = if (full) 200 else 48
            eval(base, id = "eval-pretrain") {
                algorithmic(samples = if (full) 100 else 16, maxNewTokens = 40)
                chat(questions) { taskQuestions(chatTasks) }
            }
            eval(tuned, id = "eval-sft") { chat(questions) }
            eval(rl, id = "eval-grpo") { chat(questions) }
        }
    }

val osrtPipeline: ExperimentSpec
    get() = osrtPipeline("osrt-pipeline", full = false)
val osrtPipelineFull: ExperimentSpec
    get() = osrtPipeline("osrt-pipeline", full = true)
