package looplab.examples

import looplab.dsl.*

/**
 * nano-ablation's data and models trained three times from scratch, once per optimizer: AdamW, Lion
 * and Muon. Each pretrain stage starts from random weights (none names `from`), so the run's
 * loss.png holds the three optimizers' curves side by side, per variant.
 *
 * Lion's rate is 10× below AdamW's with 10× the weight decay (its default), which keeps lr·decay
 * equal; Muon updates the hidden matrices at its own 0.02 and the rest with AdamW at the stage's
 * rate.
 */
val nanoOptimizers =
    experiment("nano-optimizers") {
        nanoAblationVariants()
        pipeline {
            val stages =
                listOf(
                    Triple("adamw", AdamW(), 2e-3),
                    Triple("lion", Lion(), 2e-4),
                    Triple("muon", Muon(), 2e-3),
                )
            for ((id, rule, peak) in stages) {
                pretrain(id = id) {
                    budget = 1_200.steps
                    batchSize = 32
                    optimizer = rule
                    lr = cosine(peak = peak, warmup = 60.steps)
                    evalEvery = 400.steps
                    evalSamples = 16
                }
            }
        }
    }
