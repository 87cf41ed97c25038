package looplab.pipelines

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import looplab.dsl.SpecJson
import looplab.pipelines.cli.BenchCommand
import looplab.pipelines.cli.BenchSoakCommand
import looplab.pipelines.cli.BenchTrainCommand
import looplab.pipelines.cli.BuiltInExample
import looplab.pipelines.cli.DataBenchCommand
import looplab.pipelines.cli.ExampleCatalog
import looplab.pipelines.cli.ListCommand
import looplab.pipelines.cli.LooplabCommand
import looplab.pipelines.cli.PlanCommand
import looplab.pipelines.cli.RunCommand

/**
 * One bad input: the command line (with `{dir}` for the case's folder), what to lay out first, the
 * exit code and what the message must name.
 */
data class BadInput(
    val name: String,
    val args: String,
    val exit: Int,
    val expected: List<String>,
    val setUp: (Path) -> Unit = {},
) {
    override fun toString(): String = name
}

/**
 * A corpus of bad inputs, each run through the CLI in-process: every one must exit with the stated
 * code, print a message naming what is wrong and where, print no stack trace, and leave every file
 * that was there before untouched.
 */
class BadInputCorpusSpec :
    FunSpec({
        val catalog = ExampleCatalog {
            listOf(BuiltInExample("tiny", "a tiny test experiment") { tinyExperiment() })
        }
        fun cli(args: List<String>) =
            LooplabCommand()
                .subcommands(
                    ListCommand(catalog),
                    PlanCommand(catalog),
                    RunCommand(catalog),
                    BenchCommand()
                        .subcommands(BenchTrainCommand(), DataBenchCommand(), BenchSoakCommand()),
                )
                .test(args)

        val rewritten = setOf("summary.json", "loss.png", "accuracy.png")

        fun snapshot(dir: Path): Map<String, List<Byte>> =
            Files.walk(dir).use { paths ->
                paths
                    .filter { Files.isRegularFile(it) }
                    .toList()
                    .associate { dir.relativize(it).toString() to Files.readAllBytes(it).toList() }
            }

        fun check(case: BadInput, dir: Path) {
            case.setUp(dir)
            val before = snapshot(dir)
            val args =
                case.args
                    .split(" ")
                    .filter { it.isNotEmpty() }
                    .map { it.replace("{dir}", dir.toString()) }
            val result = cli(args)
            withClue("${case.name}: ${result.output}") {
                result.statusCode shouldBe case.exit
                case.expected.forEach {
                    result.output shouldContain it.replace("{dir}", dir.toString())
                }
                result.output shouldNotContain "\tat "
                result.output shouldNotContain "Exception"
                result.output shouldNotContain "internal error"
            }
            val after = snapshot(dir)
            // Files may be added (a new run folder), none that was there changes or goes, but for
            // the
            // summary and plots, which must now say the resume failed.
            for ((file, bytes) in
                before.filterKeys { Path.of(it).fileName.toString() !in rewritten }) withClue(
                "${case.name}: $file was changed or removed"
            ) {
                after[file] shouldBe bytes
            }
        }

        val cliCases = CorpusCases.cli()
        val jsonCases = CorpusCases.json()
        val dataCases = CorpusCases.dataFiles()
        val scriptCases = CorpusCases.scripts()
        val folderCases = CorpusCases.runFolders()

        context("command-line arguments (${cliCases.size})") {
            withData(cliCases) { check(it, Files.createTempDirectory("bad-cli")) }
        }
        context("JSON specs (${jsonCases.size})") {
            withData(jsonCases) { check(it, Files.createTempDirectory("bad-json")) }
        }
        context("tokenizer and corpus files (${dataCases.size})") {
            withData(dataCases) { check(it, Files.createTempDirectory("bad-data")) }
        }
        context("DSL scripts (${scriptCases.size})") {
            withData(scriptCases) { check(it, Files.createTempDirectory("bad-script")) }
        }
        context("run folders and checkpoints (${folderCases.size})") {
            val trained = CorpusCases.trainedRun()
            withData(folderCases) { case ->
                val dir = Files.createTempDirectory("bad-folder")
                trained.toFile().copyRecursively(dir.resolve("run").toFile())
                check(case, dir)
            }
        }

        test("the corpus holds at least 100 bad inputs") {
            (cliCases.size +
                jsonCases.size +
                dataCases.size +
                scriptCases.size +
                folderCases.size) shouldBe
                (cliCases + jsonCases + dataCases + scriptCases + folderCases)
                    .map { it.name }
                    .toSet()
                    .size
            ((cliCases.size +
                jsonCases.size +
                dataCases.size +
                scriptCases.size +
                folderCases.size) >= 100) shouldBe true
        }
    })

/** JSON edits on a spec: set (or, with null, remove) the value at a path of keys and indices. */
internal fun JsonElement.edit(path: List<Any>, value: JsonElement?): JsonElement {
    if (path.isEmpty()) return value ?: JsonNull
    val head = path.first()
    return when (this) {
        is JsonObject -> {
            val key = head as String
            val changed =
                if (path.size == 1 && value == null) this - key
                else this + (key to (this[key] ?: JsonObject(emptyMap())).edit(path.drop(1), value))
            JsonObject(changed)
        }
        is JsonArray ->
            JsonArray(
                mapIndexed { i, e -> if (i == head as Int) e.edit(path.drop(1), value) else e }
            )
        else -> error("cannot descend into $this at $head")
    }
}

internal fun tinySpecJson(): JsonElement =
    kotlinx.serialization.json.Json.parseToJsonElement(SpecJson.encode(tinyExperiment()))
