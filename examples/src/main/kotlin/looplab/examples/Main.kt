package looplab.examples

import looplab.pipelines.cli.runCli

/** The `looplab` command with the built-in examples. */
fun main(args: Array<String>) = runCli(BuiltInExamples, args)
