package looplab.examples

import looplab.dsl.*

/**
 * Seed 001's ablation ladder: the six variants of ReLSM side by side. Each variant is one
 * [ModelBuilder] fragment; [relsmLadder] runs them at a CPU size (width 64, 4 unique layers' worth
 * of compute), [relsmLadderFull] at the seed's nano size (512 wide, 6 layers).
 */
internal fun ExperimentBuilder.ladder(
    size: ModelBuilder.() -> Unit,
    depth: Int,
    memoryTokens: Int,
    positionControl: Boolean = false,
) {
    model("baseline") {
        size()
        layers = depth
    }
    // The absolute-position control: the baseline with learned positions instead of rotary ones,
    // which tells a looped variant's extrapolation apart from what RoPE alone gives.
    if (positionControl)
        model("baseline_abs") {
            size()
            layers = depth
            positions = LearnedPositions
        }
    model("shared_loop") {
        size()
        recursive(blocks = 1, loops = depth)
    }
    model("latent") {
        size()
        layers = depth
        latent(thoughts = 4, refinements = 2)
    }
    model("act") {
        size()
        recursive(blocks = 1, loops = depth + 2)
        act(threshold = 0.99, ponderWeight = 0.01)
    }
    model("ssm") {
        size()
        recursive(blocks = depth, loops = 1) { ssm() }
    }
    model("ssm_mem") {
        size()
        memory(tokens = memoryTokens)
        recursive(blocks = depth, loops = 1) { ssm(attention = true) }
    }
}

/** The ladder at a CPU size: every variant trains 300 steps in about a minute on 2 cores. */
val relsmLadder =
    experiment("relsm-ladder") {
        seed = 1234
        cpuTasks()
        ladder(cpuSize, depth = 4, memoryTokens = 4)
        cpuPipeline()
    }

/**
 * The ladder at the seed's nano size (Size.Nano: 512 wide, 6 layers, llemma's vocabulary), for a
 * GPU.
 */
val relsmLadderFull =
    experiment("relsm-ladder") {
        seed = 1234
        gpuSetup()
        ladder({ preset(Size.Nano) }, depth = 6, memoryTokens = 16)
    }
