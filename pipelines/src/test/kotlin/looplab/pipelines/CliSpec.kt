package looplab.pipelines

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import looplab.dsl.SpecJson
import looplab.pipelines.cli.BuiltInExample
import looplab.pipelines.cli.ExampleCatalog
import looplab.pipelines.cli.ListCommand
import looplab.pipelines.cli.LooplabCommand
import looplab.pipelines.cli.PlanCommand
import looplab.pipelines.cli.RunCommand
import java.nio.file.Files

class CliSpec : FunSpec({
    val catalog = ExampleCatalog { listOf(BuiltInExample("tiny", "a tiny test experiment") { tinyExperiment() }) }
    fun cli(args: String) = LooplabCommand().subcommands(ListCommand(catalog), PlanCommand(catalog), RunCommand(catalog)).test(args)
    val dir = Files.createTempDirectory("cli")

    test("list and plan a built-in example") {
        cli("list").output shouldContain "tiny  a tiny test experiment"
        val plan = cli("plan tiny")
        plan.statusCode shouldBe 0
        plan.output shouldContain "shared_loop"
        cli("plan tiny --json").output shouldContain "\"physicalParams\""
    }

    test("--help works on every command") {
        for (command in listOf("", "list ", "plan ", "run ")) {
            val help = cli("$command--help")
            help.statusCode shouldBe 0
            help.output shouldContain "Usage: looplab"
        }
    }

    fun shouldFailClearly(args: String, vararg expected: String) {
        val result = cli(args)
        result.statusCode shouldNotBe 0
        expected.forEach { result.output shouldContain it }
        result.output shouldNotContain "\tat "
        result.output shouldNotContain "Exception"
    }

    test("an unknown example name") {
        shouldFailClearly("plan nanoo", "unknown experiment \"nanoo\"", "tiny")
    }

    test("a missing file") {
        shouldFailClearly("plan ${dir.resolve("absent.looplab.kts")}", "absent.looplab.kts: no such file")
        shouldFailClearly("run ${dir.resolve("absent.json")}", "absent.json: no such file")
    }

    test("invalid JSON, and JSON with an unknown key") {
        val broken = dir.resolve("broken.json").also { Files.writeString(it, "{ \"name\": ") }
        shouldFailClearly("plan $broken", "broken.json is not a valid experiment")
        val typo = dir.resolve("typo.json").also { Files.writeString(it, SpecJson.encode(tinyExperiment()).replace("\"seed\"", "\"sed\"")) }
        shouldFailClearly("plan $typo", "typo.json is not a valid experiment", "sed")
    }

    test("a script with a compile error names the line and column") {
        val script = dir.resolve("typo.looplab.kts").also {
            Files.writeString(it, "experiment(\"x\") {\n    sede = 3\n}\n")
        }
        shouldFailClearly("plan $script", "typo.looplab.kts:2:5: error: Unresolved reference 'sede'")
    }

    test("a script whose experiment is invalid reports every error with its path") {
        val script = dir.resolve("invalid.looplab.kts").also {
            Files.writeString(it, """
                experiment("invalid") {
                    data { algorithmic(Task.Parity) }
                    model("m") { width = 30; heads = 4; recursive(blocks = 1, loops = 0) }
                    pipeline { pretrain { budget = 10.steps } }
                }
            """.trimIndent())
        }
        shouldFailClearly("plan $script", "model[m].recursive.loops: must be ≥ 1, was 0", "model[m].heads: must divide width 30, was 4")
    }

    test("a script that does not end in an experiment") {
        val script = dir.resolve("unit.looplab.kts").also { Files.writeString(it, "val x = 3\n") }
        shouldFailClearly("plan $script", "the last expression must be an experiment")
    }

    test("run needs an experiment or a run folder to resume") {
        shouldFailClearly("run", "name an experiment to run")
        shouldFailClearly("run --resume $dir", "no plan.json there")
    }

    test("a run's plan.json can be planned again: the run is reproducible from its record") {
        val planJson = dir.resolve("plan.json")
        Files.writeString(planJson, cli("plan tiny --json").output)
        cli("plan $planJson").output shouldContain "Experiment tiny"
    }
})
