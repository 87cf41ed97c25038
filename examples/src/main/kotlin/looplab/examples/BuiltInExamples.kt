package looplab.examples

import looplab.pipelines.cli.BuiltInExample
import looplab.pipelines.cli.ExampleCatalog

/** Every experiment `looplab list` shows. */
object BuiltInExamples : ExampleCatalog {
    override fun examples(): List<BuiltInExample> =
        listOf(
            BuiltInExample(
                "nano-ablation",
                "baseline (4 layers) vs shared_loop (1 block x 4 loops) on parity, addition and copy; a few minutes on 2 CPU cores",
            ) {
                nanoAblation
            },
            BuiltInExample(
                "nano-optimizers",
                "nano-ablation's models trained from scratch with AdamW, Lion and Muon, one pretrain stage each; loss.png holds the three curves",
            ) {
                nanoOptimizers
            },
            BuiltInExample(
                "austen-split",
                "split curriculum: parity, addition, copy and a user-defined sort task first, then Jane Austen (bytes); accuracy, perplexity and bits per byte; a few minutes on 2 CPU cores",
                tasks = listOf(SortLetters),
            ) {
                austenSplit
            },
            BuiltInExample(
                "relsm-ladder",
                "seed 001's six variants (baseline, shared_loop, latent, act, ssm, ssm_mem) at a CPU size; --full: Size.Nano",
                full = { relsmLadderFull },
            ) {
                relsmLadder
            },
            BuiltInExample(
                "relsm-nano",
                "seed 001's question on one GPU: the nano ladder and an absolute-position control, 3 seeds, split curriculum (10M algorithmic + 10M Austen tokens), grid, needles, bits per byte, loops; for a GPU; not yet run or sized (see its source)",
            ) {
                relsmNano
            },
            BuiltInExample(
                "crt-v2",
                "CRT v2 Deep (seed 002): 1 block x 8 loops, 8 TRM cycles per block, aux heads at 2/4/6, early exit, causal convs; --full: 512 wide",
                full = { crtV2Full },
            ) {
                crtV2
            },
            BuiltInExample(
                "golf-3x3",
                "the parameter-golf entry (seed 003): 3 x 3 passes, GQA, low-rank keys, U-Net skips, exit gates, TD/GRU carries, confidence; --full: 768 wide",
                full = { golf3x3Full },
            ) {
                golf3x3
            },
            BuiltInExample(
                "osrt-v3",
                "nano-osrt v3 (seed 004): 2 blocks x 6 loops with adapters; --full: 104,537,600 parameters",
                full = { osrtV3Full },
            ) {
                osrtV3
            },
            BuiltInExample(
                "osrt-pipeline",
                "seed 004's post-training: osrt-v3 pretrained on copy/successor/parity, SFT on them and on digit sums as chat questions (HRA adapters), GRPO on fresh adapters, every stage evaluated; --full: 104.5M with HRA rank 256",
                full = { osrtPipelineFull },
            ) {
                osrtPipeline
            },
            BuiltInExample(
                "osrt-v4",
                "nano-osrt v4 (seed 004): 3 blocks x 6 loops, dense FFN + 12-expert MoE; --full: ~356M parameters",
                full = { osrtV4Full },
            ) {
                osrtV4
            },
        )
}
