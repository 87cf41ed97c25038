package looplab.pipelines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldMatch
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import looplab.dsl.*
import looplab.pipelines.metrics.MetricEvent
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.run.ArchivedScript
import looplab.pipelines.run.BuildInfo
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.ComparisonTable
import looplab.pipelines.run.PreflightException
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import looplab.pipelines.run.tensorboard.EventFile

class RunIdentitySpec :
    FunSpec({
        val started = System.currentTimeMillis() / 1000.0
        val runs = Files.createTempDirectory("identity")
        val script =
            runs.resolve("mine.looplab.kts").also {
                Files.writeString(it, "// stands for the script the experiment came from\n")
            }
        val spec =
            SpecOverrides.apply(
                tinyExperiment(steps = 10, evalEvery = 5),
                listOf("model[shared_loop].recursive.loops=3"),
            )
        val result =
            Runner()
                .run(
                    spec,
                    RunOptions(
                        runsDir = runs,
                        command = listOf("looplab", "run", "mine.looplab.kts", "--set", "x=1"),
                        script = script,
                        overrides = listOf("model[shared_loop].recursive.loops=3"),
                        quiet = true,
                    ),
                )
        val dir = result.dir

        test(
            "env.json names looplab's build, the command line, the script's checksum and the threads"
        ) {
            val env = Json.parseToJsonElement(Files.readString(dir.resolve("env.json"))).jsonObject
            env.getValue("looplabVersion").jsonPrimitive.content shouldBe BuildInfo.version
            BuildInfo.version shouldNotBe "unknown"
            env.getValue("looplabCommit").jsonPrimitive.content shouldMatch
                Regex("[0-9a-f]{40}|unknown")
            env.getValue("command").jsonArray.map { it.jsonPrimitive.content } shouldBe
                listOf("looplab", "run", "mine.looplab.kts", "--set", "x=1")
            env.getValue("script").jsonPrimitive.content shouldBe "mine.looplab.kts"
            env.getValue("scriptSha256").jsonPrimitive.content shouldBe
                ArchivedScript.sha256(Files.readAllBytes(script))
            env.getValue("torchThreads").jsonPrimitive.content.toInt() shouldBeGreaterThan 0
            env.keys shouldContainAll
                listOf("java", "djl", "pytorch", "device", "torchInteropThreads", "ompNumThreads")
        }

        test(
            "the script is copied beside plan.json, byte for byte, and the overrides are recorded in the plan"
        ) {
            Files.readAllBytes(dir.resolve("mine.looplab.kts")) shouldBe Files.readAllBytes(script)
            val plan =
                Json.parseToJsonElement(Files.readString(dir.resolve("plan.json"))).jsonObject
            plan.getValue("overrides").jsonArray.map { it.jsonPrimitive.content } shouldBe
                listOf("model[shared_loop].recursive.loops=3")
            plan
                .getValue("models")
                .jsonArray[1]
                .jsonObject
                .getValue("loops")
                .jsonPrimitive
                .content shouldBe "3"
        }

        test("the comparison table shows chance beside every task") {
            val table = ComparisonTable.render(result.plan, result.summary)
            table shouldContain "chance"
            table.lines().single { it.trim().startsWith("chance") } shouldContain "50.0% / 50.0%"
        }

        test(
            "TensorBoard event files hold every logged step and evaluation, record by record with valid CRCs"
        ) {
            val events =
                Files.readAllLines(dir.resolve("metrics.jsonl")).map {
                    compact.decodeFromString(MetricEvent.serializer(), it)
                }
            for (variant in listOf("baseline", "shared_loop")) {
                val file =
                    Files.list(dir.resolve("tensorboard").resolve(variant))
                        .use { it.toList() }
                        .single()
                file.fileName.toString() shouldContain "events.out.tfevents."
                val records = readRecords(Files.readAllBytes(file))
                records.first().fileVersion shouldBe "brain.Event:2"
                val scalars = records.drop(1)
                scalars.forEach {
                    it.wallTime shouldBe
                        (it.wallTime.coerceIn(started - 1, System.currentTimeMillis() / 1000.0 + 1))
                }
                val losses =
                    scalars.flatMap { r ->
                        r.values.filter { it.first == "pretrain/loss" }.map { r.step to it.second }
                    }
                val expected =
                    events
                        .filterIsInstance<TrainMetrics>()
                        .filter { it.variant == variant }
                        .map { it.step to it.loss.toFloat() }
                losses shouldBe expected
                val accuracy =
                    scalars
                        .filter { r -> r.values.any { it.first == "pretrain/accuracy_ood/parity" } }
                        .map { it.step }
                accuracy shouldBe listOf(5L, 10L)
            }
        }

        test("pre-run checks fail with every problem named and leave no run folder behind") {
            val fresh = Files.createTempDirectory("preflight")
            val file = fresh.resolve("not-a-folder").also { Files.writeString(it, "x") }
            val error =
                shouldThrow<PreflightException> {
                    Runner()
                        .run(
                            SpecOverrides.apply(
                                tinyExperiment(),
                                listOf("device={\"type\":\"gpu\",\"index\":0}"),
                            ),
                            RunOptions(runsDir = file.resolve("runs"), producers = 0, quiet = true),
                        )
                }
            error.message shouldContain "--producers must be ≥ 1, was 0"
            error.message shouldContain "device = Gpu(0): this machine has no GPU"
            error.message shouldContain "is a file, not a folder"
            Files.list(fresh).use { it.toList() } shouldBe listOf(file)

            // A folder to resume whose checkpoint lost its optimizer state: named before anything
            // is touched.
            val copy = fresh.resolve("copy")
            dir.toFile().copyRecursively(copy.toFile())
            val stateBefore = Files.readString(copy.resolve("summary.json"))
            val stageDir = copy.resolve("checkpoints/baseline/pretrain")
            Files.list(stageDir)
                .use { it.toList() }
                .forEach { Files.delete(it.resolve("optimizer.bin")) }
            val message =
                shouldThrow<PreflightException> {
                        Runner().run(spec, RunOptions(resume = copy, quiet = true))
                    }
                    .message
            message shouldContain "baseline's pretrain cannot resume: no usable checkpoint"
            message shouldContain "optimizer.bin is missing"
            Files.readString(copy.resolve("summary.json")) shouldBe stateBefore
        }
    })

class StageSemanticsSpec :
    FunSpec({
        test(
            "a stage without from starts from scratch, pretrain(from = x) continues x's weights and batches; one table row per (variant, stage)"
        ) {
            val spec =
                experiment("stages") {
                    seed = 5
                    data { algorithmic { task(Task.Parity, train = 1..4, ood = listOf(6)) } }
                    model("m") {
                        width = 32
                        heads = 2
                        contextLength = 16
                        ffnHidden = 48
                        layers = 1
                    }
                    pipeline {
                        val a =
                            pretrain("a") {
                                budget = 30.steps
                                batchSize = 8
                                lr = constant(3e-3)
                                evalSamples = 2
                                logEvery = 1.steps
                            }
                        pretrain("scratch") {
                            budget = 2.steps
                            batchSize = 8
                            lr = constant(3e-3)
                            evalSamples = 2
                            logEvery = 1.steps
                        }
                        pretrain("more", from = a) {
                            budget = 2.steps
                            batchSize = 8
                            lr = constant(3e-3)
                            evalSamples = 2
                            logEvery = 1.steps
                        }
                    }
                }
            val result =
                Runner()
                    .run(
                        spec,
                        RunOptions(runsDir = Files.createTempDirectory("stages"), quiet = true),
                    )
            result.succeeded shouldBe true
            val loss =
                Files.readAllLines(result.dir.resolve("metrics.jsonl"))
                    .map { compact.decodeFromString(MetricEvent.serializer(), it) }
                    .filterIsInstance<TrainMetrics>()
                    .associate { "${it.stage}:${it.step}" to it.loss }
            // From scratch: the same initial weights and the same first batch as stage a, so the
            // same first loss.
            loss.getValue("scratch:1") shouldBe loss.getValue("a:1")
            // Continued: a's trained weights on the batch after a's last, so a loss far below the
            // untrained one.
            loss.getValue("more:1") shouldBeLessThan loss.getValue("a:1") - 0.1
            val afterA = Checkpoint(result.dir.resolve("checkpoints/m/a")).latest()!!.params
            val afterScratch =
                Checkpoint(result.dir.resolve("checkpoints/m/scratch")).latest()!!.params
            afterScratch.keys shouldBe afterA.keys
            val table = ComparisonTable.render(result.plan, result.summary).lines()
            listOf("a", "scratch", "more").forEach { stage ->
                table.count { Regex("""^\s*m\s+$stage\s""").containsMatchIn(it) } shouldBe 1
            }
            result.plan.stages.map { it.from } shouldBe listOf(null, null, "a")
        }
    })

private val compact = Json {
    classDiscriminator = "type"
    allowSpecialFloatingPointValues = true
}

/** One decoded TFRecord: its Event's wall time, step, file version and scalar values. */
private data class Record(
    val wallTime: Double,
    val step: Long,
    val fileVersion: String?,
    val values: List<Pair<String, Float>>,
)

/**
 * Reads TFRecords, checking each masked CRC32C, and decodes the Event protobuf fields TensorBoard
 * needs.
 */
private fun readRecords(bytes: ByteArray): List<Record> {
    val buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
    val records = mutableListOf<Record>()
    while (buffer.hasRemaining()) {
        val lengthBytes = ByteArray(8).also { buffer.get(it) }
        buffer.int shouldBe EventFile.maskedCrc(lengthBytes)
        val length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).long.toInt()
        val data = ByteArray(length).also { buffer.get(it) }
        buffer.int shouldBe EventFile.maskedCrc(data)
        var wallTime = 0.0
        var step = 0L
        var version: String? = null
        val values = mutableListOf<Pair<String, Float>>()
        for ((field, value) in fields(data)) when (field) {
            1 -> wallTime = java.lang.Double.longBitsToDouble(value as Long)
            2 -> step = value as Long
            3 -> version = String(value as ByteArray)
            5 ->
                for ((f, v) in fields(value as ByteArray)) if (f == 1) {
                    val parts = fields(v as ByteArray).toMap()
                    values +=
                        String(parts.getValue(1) as ByteArray) to
                            java.lang.Float.intBitsToFloat((parts.getValue(2) as Long).toInt())
                }
        }
        records += Record(wallTime, step, version, values)
    }
    return records
}

/**
 * A protobuf message's fields in order: varint and fixed fields as Long, length-delimited ones as
 * bytes.
 */
private fun fields(message: ByteArray): List<Pair<Int, Any>> {
    val out = mutableListOf<Pair<Int, Any>>()
    var i = 0
    fun varint(): Long {
        var result = 0L
        var shift = 0
        while (true) {
            val b = message[i++].toInt() and 0xff
            result = result or ((b and 0x7f).toLong() shl shift)
            if (b < 0x80) return result
            shift += 7
        }
    }
    fun fixed(n: Int): Long {
        var v = 0L
        for (k in 0 until n) v = v or ((message[i + k].toLong() and 0xff) shl (8 * k))
        i += n
        return v
    }
    while (i < message.size) {
        val key = varint().toInt()
        out +=
            (key ushr 3) to
                when (key and 7) {
                    0 -> varint()
                    1 -> fixed(8)
                    5 -> fixed(4)
                    2 -> {
                        val n = varint().toInt()
                        message.copyOfRange(i, i + n).also { i += n }
                    }
                    else -> error("wire type ${key and 7}")
                }
    }
    return out
}
