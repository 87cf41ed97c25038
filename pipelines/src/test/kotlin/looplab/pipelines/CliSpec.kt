package looplab.pipelines

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files
import looplab.dsl.SpecJson
import looplab.pipelines.cli.BuiltInExample
import looplab.pipelines.cli.ExampleCatalog
import looplab.pipelines.cli.ListCommand
import looplab.pipelines.cli.LooplabCommand
import looplab.pipelines.cli.PlanCommand
import looplab.pipelines.cli.RunCommand

class CliSpec :
    FunSpec({
        val catalog = ExampleCatalog {
            listOf(BuiltInExample("tiny", "a tiny test experiment") { tinyExperiment() })
        }
        fun cli(args: String) =
            LooplabCommand()
                .subcommands(ListCommand(catalog), PlanCommand(catalog), RunCommand(catalog))
                .test(args)
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
            shouldFailClearly(
                "plan ${dir.resolve("absent.looplab.kts")}",
                "absent.looplab.kts: no such file",
            )
            shouldFailClearly("run ${dir.resolve("absent.json")}", "absent.json: no such file")
        }

        test("invalid JSON, and JSON with an unknown key") {
            val broken = dir.resolve("broken.json").also { Files.writeString(it, "{ \"name\": ") }
            shouldFailClearly("plan $broken", "broken.json is not a valid experiment")
            val typo =
                dir.resolve("typo.json").also {
                    Files.writeString(
                        it,
                        SpecJson.encode(tinyExperiment()).replace("\"seed\"", "\"sed\""),
                    )
                }
            shouldFailClearly("plan $typo", "typo.json is not a valid experiment", "sed")
        }

        test("a script with a compile error names the line and column") {
            val script =
                dir.resolve("typo.looplab.kts").also {
                    Files.writeString(it, "experiment(\"x\") {\n    sede = 3\n}\n")
                }
            shouldFailClearly(
                "plan $script",
                "typo.looplab.kts:2:5: error: Unresolved reference 'sede'",
            )
        }

        test("a script whose experiment is invalid reports every error with its path") {
            val script =
                dir.resolve("invalid.looplab.kts").also {
                    Files.writeString(
                        it,
                        """
                        experiment("invalid") {
                            data { algorithmic(Task.Parity) }
                            model("m") { width = 30; heads = 4; recursive(blocks = 1, loops = 0) }
                            pipeline { pretrain { budget = 10.steps } }
                        }
                        """
                            .trimIndent(),
                    )
                }
            shouldFailClearly(
                "plan $script",
                "model[m].recursive.loops: must be ≥ 1, was 0",
                "model[m].heads: must divide width 30, was 4",
            )
        }

        test("a script that does not end in an experiment") {
            val script =
                dir.resolve("unit.looplab.kts").also { Files.writeString(it, "val x = 3\n") }
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

class ScriptTasksSpec :
    FunSpec({
        test("a script can define a task of its own and attach it to its experiment") {
            val script = Files.createTempDirectory("script-task").resolve("mirror.looplab.kts")
            Files.writeString(
                script,
                """
                import kotlin.random.Random

                // A task of the script's own: write the letters backwards, twice.
                object Mirror : AlgorithmicTask {
                    override val id = TaskId("mirror")
                    override val lengthUnit = "letters"
                    override val trainLengths = LengthRange(1, 3)
                    override val oodLengths = listOf(5)
                    override fun sample(random: Random, length: Int): Example {
                        val text = String(CharArray(length) { 'a' + random.nextInt(26) })
                        return Example("mirror:${'$'}text=", text.reversed().repeat(2))
                    }
                    override fun maxChars(length: Int) = "mirror:=".length + 3 * length
                    override fun maxAnswerChars(length: Int) = 2 * length
                }

                experiment("mirror") {
                    data { algorithmic { task(Mirror.id) } }
                    model("m") { width = 32; heads = 2; layers = 1; contextLength = 24 }
                    pipeline { val base = pretrain { budget = 5.steps; batchSize = 4 }; eval(base) { algorithmic(samples = 2, maxNewTokens = 12) } }
                }.withTasks(Mirror)
                """
                    .trimIndent(),
            )
            val catalog = ExampleCatalog { emptyList() }
            val cli =
                LooplabCommand()
                    .subcommands(ListCommand(catalog), PlanCommand(catalog), RunCommand(catalog))
            val plan = cli.test("plan $script")
            plan.statusCode shouldBe 0
            plan.output shouldContain "mirror  1.0     1..3 letters   5"
            val runs = Files.createTempDirectory("script-task-runs")
            val run =
                LooplabCommand()
                    .subcommands(ListCommand(catalog), PlanCommand(catalog), RunCommand(catalog))
                    .test("run $script --runs-dir $runs")
            run.statusCode shouldBe 0
            val results =
                Files.walk(runs).use { paths ->
                    paths.filter { it.fileName.toString() == "results_algorithmic.json" }.toList()
                }
            results.size shouldBe 1
            Files.readString(results.single()) shouldContain "\"mirror\""

            // The last training step is in the record however it falls against the logging
            // interval.
            Files.readString(results.single().resolveSibling("metrics.jsonl")) shouldContain
                "\"type\":\"train\",\"variant\":\"m\",\"stage\":\"pretrain\",\"step\":5,"

            // Its tasks are code, so resuming names the script beside the run folder.
            val runDir = results.single().parent
            fun resume(args: String) =
                LooplabCommand()
                    .subcommands(ListCommand(catalog), PlanCommand(catalog), RunCommand(catalog))
                    .test("run $args --resume $runDir --runs-dir $runs")
            val resumed = resume("$script")
            withClue(resumed.output) { resumed.statusCode shouldBe 0 }
            val withoutScript = resume("")
            withoutScript.statusCode shouldNotBe 0
            withoutScript.output shouldContain "mirror"
            withoutScript.output shouldNotContain "\tat "
            val other = script.resolveSibling("other.looplab.kts")
            Files.writeString(
                other,
                Files.readString(script).replace("budget = 5.steps", "budget = 6.steps"),
            )
            val mismatch = resume("$other")
            mismatch.statusCode shouldNotBe 0
            mismatch.output shouldContain "describes a different experiment"
        }
    })
