// Issue 15's looped recipe, CPU size: parity trained on 1-8 bits and tested at 32 (4x), a looped block
// against a flat stack of the same depth, 3 seeds (about 20 min on 2 cores):
//   looplab --threads 1 run examples/scripts/parity-extrapolation.looplab.kts
// The best of the recipes screened so far (README, "Parity at 4x its training length"), and it does NOT
// reach the goal: the looped model learns 1-8 bits but is at 7-50% on 32 bits, no better than the flat one.
// The length curriculum is what makes the 12-loop model trainable at all (without it, chance after 1,250
// steps); input injection, the inter-loop norm and random depth keep it stable at 2x the trained loops.

experiment("parity-extrapolation") {
    seeds(1, 2, 3)
    data {
        algorithmic { task(Task.Parity, train = 1..8, ood = listOf(32)) }
        // One bit longer whenever accuracy at the current length averages 90%.
        curriculum { tasks = competence(raiseAt = 0.9, lowerAt = 0.3, minEvals = 2, jitter = 0.2) }
    }
    val tiny = modelPart { width = 64; heads = 4; contextLength = 64 }
    model("looped") { tiny(); recursive(blocks = 1, loops = 12) { inject(); interLoopNorm(); randomDepth(min = 2) } }
    model("flat") { tiny(); layers = 12 }
    pipeline {
        val base = pretrain {
            budget = 2_000.steps
            batchSize = 64
            lr = cosine(peak = 1e-3, warmup = 50.steps)
            evalEvery = 50.steps
        }
        // Greedy exact match per length, and the looped model at 1x-4x its trained loops.
        eval(base) { algorithmic(samples = 100, maxNewTokens = 4); loops(samples = 64, multiples = 4) }
    }
}
