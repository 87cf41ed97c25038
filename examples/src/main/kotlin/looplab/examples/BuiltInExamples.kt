package looplab.examples

import looplab.pipelines.cli.BuiltInExample
import looplab.pipelines.cli.ExampleCatalog

/** Every experiment `looplab list` shows. */
object BuiltInExamples : ExampleCatalog {
    override fun examples(): List<BuiltInExample> = listOf(
        BuiltInExample(
            "nano-ablation",
            "baseline (4 layers) vs shared_loop (1 block x 4 loops) on parity, addition and copy; a few minutes on 2 CPU cores",
        ) { nanoAblation },
        BuiltInExample(
            "austen-split",
            "split curriculum: parity, addition, copy and a user-defined sort task first, then Jane Austen (bytes); accuracy, perplexity and bits per byte; a few minutes on 2 CPU cores",
            tasks = listOf(SortLetters),
        ) { austenSplit },
    )
}
