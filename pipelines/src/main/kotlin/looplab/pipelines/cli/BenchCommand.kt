package looplab.pipelines.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.int
import looplab.pipelines.bench.DataBench

/** `looplab bench`: speed measurements (not tests); each kind is a subcommand. */
public class BenchCommand : CliktCommand(name = "bench") {
    override fun help(context: Context): String = "Measure looplab's speed: `bench data` for data generation and tokenizers."

    override fun run(): Unit = Unit
}

/** `looplab bench data`. */
public class DataBenchCommand : CliktCommand(name = "data") {
    override fun help(context: Context): String =
        "Tokens/s generated with 1 and 2 producers per task mix, BPE training and encoding speed vs jtokkit, beside the tiny CPU trainer's tokens/s."

    private val batches by option("--batches", help = "Batches timed per mix and producer count.").int().default(300)

    override fun run() {
        DataBench({ echo(it) }, batches).run()
    }
}
