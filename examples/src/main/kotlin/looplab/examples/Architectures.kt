package looplab.examples

import looplab.dsl.*

/**
 * The whole-architecture presets of seeds 002-004 as experiments: each at a CPU size (the preset
 * with width, heads and vocabulary shrunk, every part kept) and at its published size.
 */
private fun architecture(name: String, architecture: Architecture, cpu: ModelBuilder.() -> Unit) =
    experiment(name) {
        seed = 1234
        cpuTasks()
        model(name) {
            preset(architecture)
            cpuSize()
            cpu()
        }
        cpuPipeline()
    }

private fun fullSize(name: String, architecture: Architecture) =
    experiment(name) {
        seed = 1234
        gpuSetup()
        model(name) { preset(architecture) }
    }

/**
 * CRT v2 Deep: one block looped 8 times, its conv FFN run as 8 TRM cycles, auxiliary heads at loops
 * 2, 4, 6, early exit at 6.
 */
val crtV2 = architecture("crt-v2", Architecture.CrtV2) {}
val crtV2Full = fullSize("crt-v2", Architecture.CrtV2)

/**
 * The parameter-golf entry: 3 layers × 3 passes with GQA, low-rank keys, value embeddings, U-Net
 * skips, per-pass controls, exit gates, rank-16 TD and GRU carries and confidence conditioning. At
 * CPU size it is 96 wide (4 heads of 24, 2 key/value heads), so that its rank-32 keys are still a
 * bottleneck.
 */
val golf3x3 =
    architecture("golf-3x3", Architecture.Golf3x3) {
        width = 96
        kvHeads = 2
    }
val golf3x3Full = fullSize("golf-3x3", Architecture.Golf3x3)

/** nano-osrt v3: 2 blocks × 6 loops with per-(block, loop) adapters and an inter-loop norm. */
val osrtV3 = architecture("osrt-v3", Architecture.OsrtV3) {}
val osrtV3Full = fullSize("osrt-v3", Architecture.OsrtV3)

/** nano-osrt v4: 3 blocks × 6 loops, a dense FFN beside a 12-expert loop-aware MoE. */
val osrtV4 = architecture("osrt-v4", Architecture.OsrtV4) {}
val osrtV4Full = fullSize("osrt-v4", Architecture.OsrtV4)
