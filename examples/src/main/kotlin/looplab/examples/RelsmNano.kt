package looplab.examples

import looplab.dsl.*

/**
 * Seed 001's question ("does recursion help, or is it just complexity?") at the seed's nano size,
 * for one GPU: the ladder's six variants and the absolute-position control (Size.Nano: 512 wide, 6
 * layers' worth, context 1,024), three seeds each, on the split curriculum of the seed's nano
 * recipe (10M tokens of parity, addition and copy, then 10M of Jane Austen with a tenth of
 * algorithmic replay), compiled in bf16.
 *
 * Evaluated on the algorithmic grid in and out of distribution, needles up to the context, bits per
 * byte on held-out Austen, and the loops suite (per-loop readout, early exit, 1×–4× depth) where a
 * variant loops. `looplab compare` then gives the table with 95% intervals and seed 001's four win
 * criteria per variant against the baseline.
 *
 * Sized for the GPU: an algorithmic batch holds 2,048 examples (about 18k tokens, padded to 24 a
 * row), not 64, so the algorithmic phase is about 560 steps instead of 18,032 steps that leave the
 * GPU idle; the language phase is about 165 steps of 64 × 1,024 tokens. With so few steps the rate
 * is nano-sized (1e-3, 50 warm-up steps), not the 125M recipe's. Meant to run as a sweep, one cell
 * per variant and seed, each well under 10 minutes: `looplab sweep relsm-nano --grid
 * variant=baseline,baseline_abs,shared_loop,latent,act,ssm,ssm_mem,seed=1..3`.
 */
val relsmNano =
    experiment("relsm-nano") {
        seeds(1, 2, 3)
        device = Gpu(0)
        backend = Backend.Compiled
        precision = Precision.Bf16Mixed
        data {
            // GPT-2's BPE (in the jar, so it runs offline): the character tokenizer cannot encode
            // Austen, and the seed's llemma vocabulary is not shipped.
            tokenizer = Tokenizers.gpt2
            algorithmic(listOf(Task.Parity, Task.Addition, Task.Copy), examplesPerBatch = 2_048)
            language(Corpus.Austen, sequenceLength = 1_024)
            curriculum {
                phase(tokens = 10.M, algorithmic = 1.0)
                phase(tokens = 10.M, algorithmic = 0.1, language = 0.9)
            }
        }
        ladder(
            {
                preset(Size.Nano)
                vocabSize = null // the tokenizer's own
            },
            depth = 6,
            memoryTokens = 16,
            positionControl = true,
        )
        pipeline {
            val base = pretrain {
                budget = 20.M.tokens
                batchSize = 64
                lr = cosine(peak = 1e-3, warmup = 50.steps)
                evalEvery = 250.steps
                evalSamples = 32
            }
            eval(base) {
                algorithmic(samples = 100, maxNewTokens = 70)
                needles(lengths = listOf(256, 512, 1_000))
                perplexity(maxTokens = 65_536)
                loops(samples = 32, multiples = 4)
            }
        }
    }
