package looplab.pipelines

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlin.random.Random
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics

/**
 * SIGKILLs a run of [killExperiment] at random steps and inside checkpoint writes, resumes it each
 * time, and requires the end to be exactly an uninterrupted run's: the same loss at every step, bit
 * for bit, each step recorded once, the same final weights, and a summary that says so.
 */
class KillHarnessSpec :
    FunSpec({
        val json = Json {
            classDiscriminator = "type"
            allowSpecialFloatingPointValues = true
        }
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()

        /**
         * Starts the target; [kill] sees each output line and says whether to SIGKILL now. Returns
         * the run folder and whether it was killed.
         */
        fun launch(runs: Path, resume: Path?, kill: (String) -> Boolean): Pair<Path?, Boolean> {
            val command =
                listOf(
                    java,
                    "-cp",
                    System.getProperty("java.class.path"),
                    KillTarget::class.java.name,
                    runs.toString(),
                ) + listOfNotNull(resume?.toString())
            val process = ProcessBuilder(command).redirectErrorStream(true).start()
            var dir = resume
            var killed = false
            val output = StringBuilder()
            process.inputStream.bufferedReader().useLines { lines ->
                for (line in lines) {
                    output.appendLine(line)
                    if (line.startsWith("Run folder: "))
                        dir = Path.of(line.removePrefix("Run folder: ").trim())
                    if (!killed && kill(line)) {
                        process
                            .destroyForcibly() // SIGKILL on Linux: no shutdown hooks, no flushing
                        killed = true
                        break // killing closes the process's output
                    }
                }
            }
            process.waitFor(60, TimeUnit.SECONDS)
            if (!killed)
                withClue(output.toString().takeLast(3000)) { process.exitValue() shouldBe 0 }
            return dir to killed
        }

        fun trainEvents(dir: Path) =
            Files.readAllLines(dir.resolve("metrics.jsonl")).map {
                json.decodeFromString(MetricEvent.serializer(), it)
            }
        fun finalParams(dir: Path): ByteArray {
            val stage = dir.resolve("checkpoints/m/pretrain")
            val newest =
                Files.list(stage)
                    .use { s -> s.toList() }
                    .filter { it.fileName.toString().startsWith("step-") }
                    .maxBy { it.fileName.toString() }
            return Files.readAllBytes(newest.resolve("params.bin"))
        }

        test(
            "a run SIGKILLed at ≥ 10 random points, inside checkpoint writes too, and resumed each time ends bit-identical to an uninterrupted one"
        ) {
            val straightRuns = Files.createTempDirectory("kill-straight")
            val (straight, _) = launch(straightRuns, null) { false }

            val runs = Files.createTempDirectory("kill-interrupted")
            val random = Random(2024)
            var dir: Path? = null
            var kills = 0
            var insideWrites = 0
            var attempts = 0
            while (kills < 12 && attempts < 40) {
                attempts++
                val lastCheckpoint =
                    dir?.resolve("checkpoints/m/pretrain")
                        ?.takeIf { Files.isDirectory(it) }
                        ?.let { stage ->
                            Files.list(stage)
                                .use { s -> s.toList() }
                                .mapNotNull {
                                    it.fileName.toString().removePrefix("step-").toLongOrNull()
                                }
                                .maxOrNull()
                        } ?: 0L
                val inWrite = kills % 3 == 1
                // Either inside the n-th checkpoint file written from here, or at a random step not
                // far past the last checkpoint.
                val writeTarget = 1 + random.nextInt(4)
                val stepTarget = minOf(120L, lastCheckpoint + 1 + random.nextInt(15))
                var writes = 0
                val (runDir, killed) =
                    launch(runs, dir) { line ->
                        if (inWrite) line.startsWith("CHECKPOINT-WRITE") && ++writes == writeTarget
                        else line == "STEP $stepTarget"
                    }
                dir = runDir
                if (killed) {
                    kills++
                    if (inWrite) insideWrites++
                } else break
            }
            // However the kills fell, resuming once more finishes the run.
            val finished =
                if (dir != null) launch(runs, dir) { false }.first!!
                else error("the first launch printed no run folder")

            kills shouldBeGreaterThanOrEqual 10
            insideWrites shouldBeGreaterThanOrEqual 3
            val expected = trainEvents(straight!!).filterIsInstance<TrainMetrics>()
            val actual = trainEvents(finished).filterIsInstance<TrainMetrics>()
            actual.map { it.step } shouldBe (1L..120L).toList() // each step exactly once, in order
            actual.map { it.loss.toRawBits() } shouldBe expected.map { it.loss.toRawBits() }
            trainEvents(finished).filterIsInstance<EvalMetrics>().map {
                "${it.stage}:${it.step}"
            } shouldBe
                trainEvents(straight).filterIsInstance<EvalMetrics>().map {
                    "${it.stage}:${it.step}"
                }
            finalParams(finished).contentEquals(finalParams(straight)) shouldBe true

            val summary =
                Json.parseToJsonElement(Files.readString(finished.resolve("summary.json")))
                    .jsonObject
            summary.getValue("status").jsonPrimitive.content shouldBe "complete"
            val pretrain =
                summary
                    .getValue("variants")
                    .jsonArray
                    .single()
                    .jsonObject
                    .getValue("stages")
                    .jsonObject
                    .getValue("pretrain")
                    .jsonObject
            val reference =
                Json.parseToJsonElement(Files.readString(straight.resolve("summary.json")))
                    .jsonObject
                    .getValue("variants")
                    .jsonArray
                    .single()
                    .jsonObject
                    .getValue("stages")
                    .jsonObject
                    .getValue("pretrain")
                    .jsonObject
            for (key in
                listOf("steps", "tokens", "firstLoss", "finalLoss", "validationLoss")) pretrain
                .getValue(key) shouldBe reference.getValue(key)
        }
    })
