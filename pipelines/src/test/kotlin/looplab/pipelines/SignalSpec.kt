package looplab.pipelines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeInRange
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlinx.serialization.json.Json
import looplab.dsl.CheckpointPolicy
import looplab.dsl.Steps
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import looplab.pipelines.train.CheckpointTrigger
import looplab.pipelines.train.StopRequest

class SignalSpec :
    FunSpec({
        test(
            "the checkpoint trigger fires every N steps, every N minutes since the last save, and at once on a stop request"
        ) {
            var now = 0L
            val trigger =
                CheckpointTrigger(
                    CheckpointPolicy(every = Steps(5), minutes = 1.0),
                    clock = { now },
                )
            (1L..12L).filter { trigger.due(it) } shouldBe listOf(5L, 10L)
            now = 61_000_000_000L
            trigger.due(11) shouldBe true
            trigger.saved()
            trigger.due(11) shouldBe false
            val stop = StopRequest()
            val stoppable = CheckpointTrigger(CheckpointPolicy(every = null, minutes = null), stop)
            stoppable.due(3) shouldBe false
            stop.request("TERM")
            stoppable.due(3) shouldBe true
            stoppable.stopping shouldBe true
        }

        test(
            "SIGTERM saves a checkpoint, marks the run interrupted, says how to resume, exits 143; the resumed run matches an uninterrupted one"
        ) {
            val runs = Files.createTempDirectory("signal")
            val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
            val log = runs.resolve("child.log")
            val child =
                ProcessBuilder(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        "-Dai.djl.offline=true",
                        SignalledRunMain::class.java.name,
                        "run",
                        "long",
                        "--runs-dir",
                        runs.toString(),
                    )
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .also { it.environment()["OMP_NUM_THREADS"] = "1" }
                    .start()
            // Wait until training has taken a few steps, then send SIGTERM (what destroy() sends on
            // Unix).
            fun stepsLogged(): Int =
                Files.list(runs.resolve("long"))
                    .use { it.toList() }
                    .firstOrNull()
                    ?.resolve("metrics.jsonl")
                    ?.takeIf { Files.exists(it) }
                    ?.let { Files.readAllLines(it).size } ?: 0
            val deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5)
            while (
                (!Files.exists(runs.resolve("long")) || stepsLogged() < 5) &&
                    child.isAlive &&
                    System.nanoTime() < deadline
            ) Thread.sleep(50)
            child.destroy()
            child.waitFor(2, TimeUnit.MINUTES) shouldBe true
            val output = Files.readString(log)
            child.exitValue() shouldBe 143
            output shouldContain "(SIGTERM)"
            output shouldContain "continue it with:"
            val dir = Files.list(runs.resolve("long")).use { it.toList() }.single()
            output shouldContain "looplab run --resume $dir"
            Files.readString(dir.resolve("summary.json")) shouldContain
                "\"status\": \"interrupted\""
            val saved = Checkpoint(dir.resolve("checkpoints/m/pretrain")).state()
            saved.complete shouldBe false
            saved.step shouldBeInRange 5L..399L

            val resumed = Runner().run(longTinyExperiment(), RunOptions(resume = dir, quiet = true))
            resumed.succeeded shouldBe true
            val straight =
                Runner()
                    .run(
                        longTinyExperiment(),
                        RunOptions(runsDir = Files.createTempDirectory("straight"), quiet = true),
                    )
            fun losses(d: Path) =
                Files.readAllLines(d.resolve("metrics.jsonl"))
                    .map { json.decodeFromString(MetricEvent.serializer(), it) }
                    .filterIsInstance<TrainMetrics>()
                    .associate { it.step to it.loss }
            val after = losses(dir).filterKeys { it > saved.step }
            after.keys.size shouldBeGreaterThan 0
            after.keys.max() shouldBe 400L
            // Bit for bit: the same batches, weights and optimizer state from the signal's
            // checkpoint on.
            after shouldBe losses(straight.dir).filterKeys { it > saved.step }
        }
    })

private val json = Json { classDiscriminator = "type" }
