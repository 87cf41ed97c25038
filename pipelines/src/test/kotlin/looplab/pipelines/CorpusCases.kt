package looplab.pipelines

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.jsonObject
import looplab.dsl.*
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import looplab.pipelines.run.TensorFile

/** The cases of [BadInputCorpusSpec], by category. */
object CorpusCases {
    private fun case(
        name: String,
        args: String,
        exit: Int,
        vararg expected: String,
        setUp: (Path) -> Unit = {},
    ) = BadInput(name, args, exit, expected.toList(), setUp)

    fun cli(): List<BadInput> =
        listOf(
            case("an unknown command", "frobnicate", 1, "no such subcommand frobnicate"),
            case(
                "a value that is not a number",
                "run tiny --producers abc",
                1,
                "--producers",
                "abc",
            ),
            case(
                "an option without its value",
                "run tiny --producers",
                1,
                "--producers",
                "requires a value",
            ),
            case("plan without an experiment", "plan", 1, "missing argument"),
            case("an unknown option", "run tiny --bogus", 1, "no such option", "--bogus"),
            case("zero threads", "--threads 0 list", 1, "--threads", "must be ≥ 1"),
            case("threads not a number", "--threads x list", 1, "--threads", "x"),
            case("an extra argument", "plan tiny extra", 1, "unexpected extra argument", "extra"),
            case("--resume without a folder", "run --resume", 1, "--resume", "requires a value"),
            case(
                "--resume of a folder that is no run",
                "run --resume {dir}",
                1,
                "no plan.json there",
            ),
            case(
                "--resume of a folder that does not exist",
                "run --resume {dir}/absent",
                1,
                "absent",
                "no plan.json there",
            ),
            case(
                "--full for an example without a full size",
                "plan tiny --full",
                2,
                "--full: \"tiny\" has no full-size variant",
            ),
            case("a soak of zero steps", "bench soak --steps 0", 1, "--steps must be ≥ 1, was 0"),
            case(
                "a soak read every zero steps",
                "bench soak --steps 10 --every 0",
                1,
                "--every must be ≥ 1",
            ),
            case(
                "a soak of an unknown backend",
                "bench soak --backends warp",
                1,
                "unknown backend \"warp\"",
            ),
            case(
                "an unknown bench model",
                "bench train --models nope",
                1,
                "unknown bench model \"nope\"",
            ),
            case(
                "a bench mode without precision",
                "bench train --modes eager",
                1,
                "mode \"eager\"",
                "backend-precision",
            ),
            case(
                "a bench mode with an unknown backend",
                "bench train --modes warp-fp32",
                1,
                "unknown backend \"warp\"",
            ),
            case(
                "a bench mode with an unknown precision",
                "bench train --modes eager-fp64",
                1,
                "unknown precision \"fp64\"",
            ),
            case(
                "a bench mode the eager backend cannot run",
                "bench train --modes eager-bf16mixed",
                1,
                "eager backend runs fp32 only",
            ),
            case("a sequence length that is not a number", "bench train --seq x", 1, "--seq"),
            case("a batch count that is not a number", "bench data --batches many", 1, "--batches"),
            case(
                "an experiment file of another kind",
                "plan {dir}/notes.txt",
                2,
                "notes.txt: expected a *.looplab.kts script or a *.json spec",
            ) {
                Files.writeString(it.resolve("notes.txt"), "hello")
            },
            case(
                "a .json that is a folder",
                "plan {dir}/folder.json",
                2,
                "folder.json: no such file",
            ) {
                Files.createDirectories(it.resolve("folder.json"))
            },
            case("an unknown example name", "plan nano", 2, "unknown experiment \"nano\"", "tiny"),
            case(
                "--runs-dir that is a file",
                "run tiny --runs-dir {dir}/file",
                1,
                "--runs-dir",
                "not a folder",
            ) {
                Files.writeString(it.resolve("file"), "x")
            },
            case(
                "a missing script",
                "run {dir}/absent.looplab.kts",
                2,
                "absent.looplab.kts: no such file",
            ),
        )

    private fun specFile(name: String, json: JsonElement): (Path) -> Unit = { dir ->
        Files.writeString(dir.resolve(name), json.toString())
    }

    private fun jsonCase(
        name: String,
        path: List<Any>,
        value: JsonElement?,
        vararg expected: String,
    ): BadInput =
        case(
            name,
            "plan {dir}/spec.json",
            2,
            *expected,
            setUp = specFile("spec.json", tinySpecJson().edit(path, value)),
        )

    private fun n(x: Number) = JsonPrimitive(x)

    private fun s(x: String) = JsonPrimitive(x)

    private fun obj(vararg pairs: Pair<String, JsonElement>) = JsonObject(pairs.toMap())

    fun json(): List<BadInput> {
        val m0 = listOf("models", 0)
        val m1 = listOf("models", 1)
        val pre = listOf("pipeline", "stages", 0)
        val ev = listOf("pipeline", "stages", 1)
        return listOf(
            jsonCase(
                "width not divisible by heads",
                m0 + "width",
                n(31),
                "model[baseline].heads: must divide width 31",
            ),
            jsonCase("zero heads", m0 + "heads", n(0), "model[baseline].heads"),
            jsonCase(
                "a context of one token",
                m0 + "contextLength",
                n(1),
                "model[baseline].contextLength: must be ≥ 2",
            ),
            jsonCase(
                "zero norm epsilon",
                m0 + "normEps",
                n(0.0),
                "model[baseline].normEps: must be > 0",
            ),
            jsonCase(
                "negative init std",
                m0 + "initStd",
                n(-1.0),
                "model[baseline].initStd: must be > 0",
            ),
            jsonCase(
                "a vocabulary of one",
                m0 + "vocabSize",
                n(1),
                "model[baseline].vocabSize: must be ≥ 2",
            ),
            jsonCase(
                "a RoPE base below one",
                m0 + "positions",
                obj("type" to s("rope"), "base" to n(0.5)),
                "model[baseline].positions.base: must be > 1",
            ),
            jsonCase(
                "an NTK factor below one",
                m0 + "positions",
                obj("type" to s("rope"), "ntk" to JsonPrimitive(true), "ntkFactor" to n(0.5)),
                "model[baseline].positions.ntkFactor: must be ≥ 1",
            ),
            jsonCase(
                "zero loops",
                m1 + listOf("recursive", "loops"),
                n(0),
                "model[shared_loop].recursive.loops: must be ≥ 1",
            ),
            jsonCase(
                "zero blocks",
                m1 + listOf("recursive", "blocks"),
                n(0),
                "model[shared_loop].recursive.blocks",
            ),
            jsonCase(
                "two models of one name",
                m1 + "name",
                s("baseline"),
                "two models are named \"baseline\"",
            ),
            jsonCase(
                "a name that cannot name a folder",
                listOf("name"),
                s("bad name!"),
                "name: must be letters, digits",
            ),
            jsonCase(
                "no models",
                listOf("models"),
                JsonArray(emptyList()),
                "declare at least one model",
            ),
            jsonCase(
                "no stages",
                listOf("pipeline", "stages"),
                JsonArray(emptyList()),
                "declare at least one stage",
            ),
            jsonCase(
                "a batch of zero",
                pre + "batchSize",
                n(0),
                "pipeline.pretrain.batchSize: must be ≥ 1",
            ),
            jsonCase(
                "a budget of zero steps",
                pre + "budget",
                obj("type" to s("steps"), "steps" to n(0)),
                "pipeline.pretrain.budget.steps: must be ≥ 1",
            ),
            jsonCase(
                "a negative peak learning rate",
                pre + listOf("lr", "peak"),
                n(-1.0),
                "pipeline.pretrain.lr.peak: must be > 0",
            ),
            jsonCase(
                "a learning-rate floor above one",
                pre + listOf("lr", "floor"),
                n(2.0),
                "pipeline.pretrain.lr.floor: must be within 0..1",
            ),
            jsonCase(
                "beta1 of one",
                pre + listOf("optimizer", "beta1"),
                n(1.0),
                "pipeline.pretrain.optimizer.beta1",
            ),
            jsonCase(
                "a negative beta2",
                pre + listOf("optimizer", "beta2"),
                n(-0.1),
                "pipeline.pretrain.optimizer.beta2",
            ),
            jsonCase(
                "zero epsilon",
                pre + listOf("optimizer", "eps"),
                n(0.0),
                "pipeline.pretrain.optimizer.eps: must be > 0",
            ),
            jsonCase(
                "negative weight decay",
                pre + listOf("optimizer", "weightDecay"),
                n(-1.0),
                "pipeline.pretrain.optimizer.weightDecay: must be ≥ 0",
            ),
            jsonCase(
                "a clip norm of zero",
                pre + "clipNorm",
                n(0.0),
                "pipeline.pretrain.clipNorm: must be > 0",
            ),
            jsonCase(
                "zero skips of non-finite steps",
                pre + "onNonFinite",
                obj("type" to s("skip"), "maxSkips" to n(0)),
                "pipeline.pretrain.onNonFinite.maxSkips: must be ≥ 1",
            ),
            jsonCase(
                "a learning-rate factor above one",
                pre + "onNonFinite",
                obj("type" to s("skip"), "lrFactor" to n(1.5)),
                "pipeline.pretrain.onNonFinite.lrFactor: must be within (0, 1)",
            ),
            jsonCase(
                "an unknown non-finite policy",
                pre + "onNonFinite",
                obj("type" to s("retry")),
                "spec.json is not a valid experiment",
                "retry",
            ),
            jsonCase(
                "an eval of an unknown stage",
                ev + "from",
                s("nope"),
                "refers to \"nope\", which is not an earlier training stage",
            ),
            jsonCase(
                "a stage id used twice",
                ev + "id",
                s("pretrain"),
                "stage id \"pretrain\" is used twice",
            ),
            jsonCase(
                "zero eval samples",
                ev + listOf("algorithmic", "samples"),
                n(0),
                "algorithmic.samples: must be ≥ 1",
            ),
            jsonCase(
                "zero new tokens",
                ev + listOf("algorithmic", "maxNewTokens"),
                n(0),
                "algorithmic.maxNewTokens: must be ≥ 1",
            ),
            jsonCase(
                "bf16 on the eager backend",
                listOf("precision"),
                s("Bf16Mixed"),
                "precision",
                "needs backend = Backend.Compiled",
            ),
            jsonCase(
                "an unknown precision",
                listOf("precision"),
                s("Fp64"),
                "spec.json is not a valid experiment",
                "Fp64",
            ),
            jsonCase(
                "an unknown backend",
                listOf("backend"),
                s("Quantum"),
                "spec.json is not a valid experiment",
                "Quantum",
            ),
            jsonCase(
                "an unknown top-level key",
                listOf("sed"),
                n(3),
                "spec.json is not a valid experiment",
                "sed",
            ),
            jsonCase(
                "an unknown model key",
                m0 + "widht",
                n(32),
                "spec.json is not a valid experiment",
                "widht",
            ),
            jsonCase(
                "an unknown stage key",
                pre + "batchsize",
                n(8),
                "spec.json is not a valid experiment",
                "batchsize",
            ),
            jsonCase(
                "a seed that is text",
                listOf("seed"),
                s("abc"),
                "spec.json is not a valid experiment",
                "seed",
            ),
            jsonCase(
                "a width that is fractional",
                m0 + "width",
                n(32.5),
                "spec.json is not a valid experiment",
                "width",
            ),
            jsonCase(
                "a model without its name",
                m0 + "name",
                null,
                "spec.json is not a valid experiment",
                "name",
            ),
            jsonCase(
                "an unknown position kind",
                m0 + "positions",
                obj("type" to s("alibi")),
                "spec.json is not a valid experiment",
                "alibi",
            ),
            jsonCase(
                "an unknown stage kind",
                pre + "type",
                s("finetune"),
                "spec.json is not a valid experiment",
                "finetune",
            ),
            jsonCase(
                "a model list that is an object",
                listOf("models"),
                obj(),
                "spec.json is not a valid experiment",
                "models",
            ),
            case(
                "a truncated JSON file",
                "plan {dir}/spec.json",
                2,
                "spec.json is not a valid experiment",
            ) {
                Files.writeString(it.resolve("spec.json"), tinySpecJson().toString().take(200))
            },
            case(
                "an empty JSON file",
                "plan {dir}/spec.json",
                2,
                "spec.json is not a valid experiment",
            ) {
                Files.writeString(it.resolve("spec.json"), "")
            },
            case(
                "a binary JSON file",
                "plan {dir}/spec.json",
                2,
                "spec.json is not a valid experiment",
            ) {
                Files.write(it.resolve("spec.json"), ByteArray(300) { i -> (i * 37).toByte() })
            },
            case("a JSON array", "plan {dir}/spec.json", 2, "spec.json is not a valid experiment") {
                Files.writeString(it.resolve("spec.json"), "[1, 2]")
            },
            case(
                "a plan.json whose experiment is damaged",
                "plan {dir}/plan.json",
                2,
                "plan.json (its \"experiment\") is not a valid experiment",
            ) {
                Files.writeString(it.resolve("plan.json"), "{\"experiment\": {\"name\": 3}}")
            },
            case(
                "a run of an invalid spec writes no run folder",
                "run {dir}/spec.json --runs-dir {dir}/runs",
                2,
                "model[baseline].heads: must divide width 31",
            ) {
                specFile("spec.json", tinySpecJson().edit(m0 + "width", n(31)))(it)
            },
        )
    }

    private fun dataSpec(dir: Path, configure: DataBuilder.(Path) -> Unit): (Path) -> Unit = { _ ->
        val spec =
            experiment("data") {
                data { configure(dir) }
                model("m") {
                    width = 32
                    heads = 2
                    contextLength = 16
                    ffnHidden = 48
                    layers = 1
                }
                pipeline {
                    pretrain {
                        budget = 2.steps
                        batchSize = 2
                    }
                }
            }
        Files.writeString(dir.resolve("spec.json"), SpecJson.encode(spec))
    }

    private fun dataCase(
        name: String,
        vararg expected: String,
        files: (Path) -> Unit = {},
        configure: DataBuilder.(Path) -> Unit,
    ): BadInput =
        case(name, "plan {dir}/spec.json", 2, *expected) { dir ->
            files(dir)
            dataSpec(dir, configure)(dir)
        }

    fun dataFiles(): List<BadInput> {
        val text: DataBuilder.(Path) -> Unit = { dir ->
            tokenizer = Tokenizers.bytes
            language(Corpus.text(dir.resolve("corpus.txt").toString()))
        }
        val jsonl: DataBuilder.(Path) -> Unit = { dir ->
            tokenizer = Tokenizers.bytes
            language(Corpus.jsonl(dir.resolve("corpus.jsonl").toString()))
        }
        val hf: (String) -> DataBuilder.(Path) -> Unit = { file ->
            { dir ->
                tokenizer = Tokenizers.huggingFace(dir.resolve(file).toString())
                algorithmic(Task.Parity)
            }
        }
        fun write(file: String, bytes: ByteArray): (Path) -> Unit = {
            Files.write(it.resolve(file), bytes)
        }
        return listOf(
            dataCase("a missing text corpus", "corpus.txt: no such file", configure = text),
            dataCase(
                "an empty text corpus",
                "corpus.txt: the file is empty",
                files = write("corpus.txt", ByteArray(0)),
                configure = text,
            ),
            dataCase(
                "a text corpus of separators only",
                "corpus.txt: no documents",
                files = write("corpus.txt", " <|endoftext|>\n<|endoftext|> ".toByteArray()),
                configure = text,
            ),
            dataCase(
                "a binary text corpus",
                "corpus.txt: not UTF-8 text",
                files = write("corpus.txt", ByteArray(4096) { (it * 131 + 7).toByte() }),
                configure = text,
            ),
            dataCase(
                "a Latin-1 text corpus",
                "corpus.txt: not UTF-8 text (invalid byte sequence at byte 3)",
                files = write("corpus.txt", "caf\u00e9 au lait".toByteArray(Charsets.ISO_8859_1)),
                configure = text,
            ),
            dataCase(
                "a missing JSON Lines corpus",
                "corpus.jsonl: no such file",
                configure = jsonl,
            ),
            dataCase(
                "an empty JSON Lines corpus",
                "corpus.jsonl: the file is empty",
                files = write("corpus.jsonl", ByteArray(0)),
                configure = jsonl,
            ),
            dataCase(
                "a JSON Lines line that is not JSON",
                "corpus.jsonl:2: not a JSON object",
                files = write("corpus.jsonl", "{\"text\": \"a\"}\nnot json\n".toByteArray()),
                configure = jsonl,
            ),
            dataCase(
                "a JSON Lines line without the field",
                "corpus.jsonl:1: no string field \"text\"",
                files = write("corpus.jsonl", "{\"body\": \"a\"}\n".toByteArray()),
                configure = jsonl,
            ),
            dataCase(
                "a JSON Lines field that is a number",
                "corpus.jsonl:1: no string field \"text\"",
                files = write("corpus.jsonl", "{\"text\": 3}\n".toByteArray()),
                configure = jsonl,
            ),
            dataCase(
                "a JSON Lines corpus of blank texts",
                "corpus.jsonl: no documents",
                files =
                    write("corpus.jsonl", "{\"text\": \" \"}\n{\"text\": \"\"}\n".toByteArray()),
                configure = jsonl,
            ),
            dataCase(
                "a JSON Lines corpus with a huge line that is not JSON",
                "corpus.jsonl:1: not a JSON object",
                files =
                    write("corpus.jsonl", ("{\"text\": \"" + "x".repeat(3_000_000)).toByteArray()),
                configure = jsonl,
            ),
            dataCase(
                "a binary JSON Lines corpus",
                "corpus.jsonl: not UTF-8 text",
                files = write("corpus.jsonl", ByteArray(2048) { (it * 97 + 128).toByte() }),
                configure = jsonl,
            ),
            dataCase(
                "a missing tokenizer file",
                "tokenizer.json: no such tokenizer file",
                configure = hf("tokenizer.json"),
            ),
            dataCase(
                "an empty tokenizer file",
                "tokenizer.json is not a valid tokenizer.json",
                files = write("tokenizer.json", ByteArray(0)),
                configure = hf("tokenizer.json"),
            ),
            dataCase(
                "a binary tokenizer file",
                "tokenizer.json is not a valid tokenizer.json",
                files = write("tokenizer.json", ByteArray(512) { (it * 13).toByte() }),
                configure = hf("tokenizer.json"),
            ),
            dataCase(
                "a tokenizer file that is an array",
                "tokenizer.json is not a valid tokenizer.json: the top level is not a JSON object",
                files = write("tokenizer.json", "[]".toByteArray()),
                configure = hf("tokenizer.json"),
            ),
            dataCase(
                "a tokenizer without a model",
                "tokenizer.json is not a valid tokenizer.json: it has no \"model\" object",
                files = write("tokenizer.json", "{\"version\": \"1.0\"}".toByteArray()),
                configure = hf("tokenizer.json"),
            ),
            dataCase(
                "a tokenizer model without a vocabulary",
                "tokenizer.json is not a valid tokenizer.json: \"model\" has no \"vocab\"",
                files = write("tokenizer.json", "{\"model\": {\"type\": \"BPE\"}}".toByteArray()),
                configure = hf("tokenizer.json"),
            ),
            dataCase(
                "a .gz tokenizer that is not gzip",
                "tokenizer.json.gz is not a valid tokenizer.json.gz",
                files = write("tokenizer.json.gz", "{}".toByteArray()),
                configure = hf("tokenizer.json.gz"),
            ),
        )
    }

    private fun scriptCase(name: String, source: String, vararg expected: String) =
        case(name, "plan {dir}/s.looplab.kts", 2, *expected) {
            Files.writeString(it.resolve("s.looplab.kts"), source)
        }

    fun scripts(): List<BadInput> =
        listOf(
            scriptCase(
                "an unresolved name",
                "experiment(\"x\") {\n    sede = 3\n}\n",
                "s.looplab.kts:2:5: error: Unresolved reference 'sede'",
            ),
            scriptCase(
                "a syntax error",
                "experiment(\"x\") {\n    model(\"m\") { width = }\n}\n",
                "s.looplab.kts:2:",
                "error",
            ),
            scriptCase(
                "a last expression that is not an experiment",
                "val x = 3\n",
                "the last expression must be an experiment",
            ),
            scriptCase(
                "a script that throws",
                "error(\"boom from the script\")\n",
                "s.looplab.kts",
                "boom from the script",
            ),
            scriptCase(
                "an invalid model in a script",
                "experiment(\"x\") {\n    data { algorithmic(Task.Parity) }\n    model(\"m\") { width = 30; heads = 4; layers = 1 }\n    pipeline { pretrain { budget = 10.steps } }\n}\n",
                "model[m].heads: must divide width 30",
            ),
            scriptCase(
                "an empty script",
                "",
                "s.looplab.kts",
                "the last expression must be an experiment",
            ),
        )

    /** A finished tiny run to damage: two variants, checkpoints at steps 5 and 10. */
    fun trainedRun(): Path {
        val runs = Files.createTempDirectory("corpus-runs")
        return Runner()
            .run(tinyExperiment(steps = 10, evalEvery = 5), RunOptions(runsDir = runs))
            .dir
    }

    private fun resumeCase(
        name: String,
        vararg expected: String,
        exit: Int = 2,
        damage: (Path) -> Unit,
    ) = case(name, "run --resume {dir}/run", exit, *expected) { damage(it.resolve("run")) }

    private fun checkpoints(run: Path): List<Path> =
        Files.list(run.resolve("checkpoints/baseline/pretrain"))
            .use { s -> s.toList() }
            .filter { it.fileName.toString().startsWith("step-") }

    /**
     * Rewrites every baseline checkpoint's params.bin with [change] and fixes its digest, so only
     * the content is wrong.
     */
    private fun rewriteParams(run: Path, change: (ByteArray) -> ByteArray) =
        checkpoints(run).forEach { folder ->
            val bytes = change(Files.readAllBytes(folder.resolve("params.bin")))
            Files.write(folder.resolve("params.bin"), bytes)
            editManifest(folder) { m ->
                val files = m.getValue("files").jsonObject
                val digest =
                    MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") {
                        "%02x".format(it)
                    }
                JsonObject(
                    m +
                        ("files" to
                            JsonObject(
                                files +
                                    ("params.bin" to
                                        JsonObject(
                                            mapOf(
                                                "bytes" to JsonPrimitive(bytes.size),
                                                "sha256" to JsonPrimitive(digest),
                                            )
                                        ))
                            ))
                )
            }
        }

    private fun editManifest(folder: Path, change: (JsonObject) -> JsonObject) {
        val file = folder.resolve("checkpoint.json")
        Files.writeString(
            file,
            change(Json.parseToJsonElement(Files.readString(file)).jsonObject).toString(),
        )
    }

    private fun tensors(run: Path, change: (Map<String, FloatArray>) -> Map<String, FloatArray>) =
        rewriteParams(run) { bytes ->
            TensorFile.encode(change(TensorFile.decode(bytes, "params")))
        }

    fun runFolders(): List<BadInput> =
        listOf(
            resumeCase("a run folder without plan.json", "no plan.json there", exit = 1) {
                Files.delete(it.resolve("plan.json"))
            },
            resumeCase("a truncated plan.json", "plan.json", "is not a valid experiment") {
                Files.writeString(
                    it.resolve("plan.json"),
                    Files.readString(it.resolve("plan.json")).take(100),
                )
            },
            resumeCase("a binary plan.json", "plan.json", "is not a valid experiment") {
                Files.write(it.resolve("plan.json"), ByteArray(100) { i -> (i * 7).toByte() })
            },
            resumeCase(
                "a damaged line inside metrics.jsonl",
                "metrics.jsonl:3 is not a metrics record",
            ) { run ->
                val lines = Files.readAllLines(run.resolve("metrics.jsonl")).toMutableList()
                lines[2] = "{\"type\": \"train\", garbage"
                Files.writeString(run.resolve("metrics.jsonl"), lines.joinToString("\n") + "\n")
            },
            resumeCase(
                "a truncated params.bin",
                "no usable checkpoint",
                "params.bin has",
                "truncated or damaged",
            ) { run ->
                checkpoints(run).forEach { f ->
                    val p = f.resolve("params.bin")
                    Files.write(p, Files.readAllBytes(p).copyOf(100))
                }
            },
            resumeCase(
                "a params.bin with a flipped byte",
                "no usable checkpoint",
                "params.bin does not match its SHA-256",
            ) { run ->
                checkpoints(run).forEach { f ->
                    val p = f.resolve("params.bin")
                    val b = Files.readAllBytes(p)
                    b[b.size / 2] = (b[b.size / 2] + 1).toByte()
                    Files.write(p, b)
                }
            },
            resumeCase(
                "a missing optimizer.bin",
                "no usable checkpoint",
                "optimizer.bin is missing",
            ) { run ->
                checkpoints(run).forEach { Files.delete(it.resolve("optimizer.bin")) }
            },
            resumeCase(
                "a missing checkpoint.json",
                "no usable checkpoint",
                "checkpoint.json is missing",
            ) { run ->
                checkpoints(run).forEach { Files.delete(it.resolve("checkpoint.json")) }
            },
            resumeCase(
                "a checkpoint.json that is not JSON",
                "no usable checkpoint",
                "checkpoint.json cannot be read",
            ) { run ->
                checkpoints(run).forEach {
                    Files.writeString(it.resolve("checkpoint.json"), "{ nope")
                }
            },
            resumeCase(
                "a checkpoint of an unknown format",
                "no usable checkpoint",
                "checkpoint format 99",
            ) { run ->
                checkpoints(run).forEach { f ->
                    editManifest(f) { JsonObject(it + ("format" to JsonPrimitive(99))) }
                }
            },
            resumeCase(
                "a checkpoint from another experiment",
                "no usable checkpoint",
                "belongs to experiment \"other\", not \"tiny\"",
            ) { run ->
                checkpoints(run).forEach { f ->
                    editManifest(f) { m ->
                        JsonObject(
                            m +
                                ("identity" to
                                    JsonObject(
                                        m.getValue("identity").jsonObject +
                                            ("experiment" to JsonPrimitive("other"))
                                    ))
                        )
                    }
                }
            },
            resumeCase(
                "a checkpoint of another stage",
                "no usable checkpoint",
                "belongs to stage \"warmup\"",
            ) { run ->
                checkpoints(run).forEach { f ->
                    editManifest(f) { m ->
                        JsonObject(
                            m +
                                ("identity" to
                                    JsonObject(
                                        m.getValue("identity").jsonObject +
                                            ("stage" to JsonPrimitive("warmup"))
                                    ))
                        )
                    }
                }
            },
            resumeCase(
                "a checkpoint of another model layout",
                "no usable checkpoint",
                "laid out differently from this model's",
            ) { run ->
                checkpoints(run).forEach { f ->
                    editManifest(f) { m ->
                        JsonObject(
                            m +
                                ("identity" to
                                    JsonObject(
                                        m.getValue("identity").jsonObject +
                                            ("parameters" to JsonPrimitive("0".repeat(64)))
                                    ))
                        )
                    }
                }
            },
            resumeCase(
                "NaN values in a checkpoint",
                "no usable checkpoint",
                "params.bin holds NaN or infinite values in",
            ) { run ->
                tensors(run) { t ->
                    t.mapValues { (_, v) -> v.copyOf().also { it[0] = Float.NaN } }
                }
            },
            resumeCase(
                "infinite values in a checkpoint",
                "no usable checkpoint",
                "params.bin holds NaN or infinite values in",
            ) { run ->
                tensors(run) { t ->
                    t.mapValues { (_, v) ->
                        v.copyOf().also { it[it.size - 1] = Float.POSITIVE_INFINITY }
                    }
                }
            },
            resumeCase(
                "a tensor of the wrong shape",
                "does not fit this model",
                "the model needs",
            ) { run ->
                tensors(run) { t -> t.mapValues { (_, v) -> v.copyOf(v.size + 1) } }
            },
            resumeCase("a tensor of another name", "does not fit this model", "unexpected") { run ->
                tensors(run) { t ->
                    t.entries.associate { (k, v) ->
                        (if (k == t.keys.first()) "$k.renamed" else k) to v
                    }
                }
            },
            resumeCase("a negative length field", "no usable checkpoint", "has length -1") { run ->
                rewriteParams(run) { b -> lengthField(b, -1) }
            },
            resumeCase("a huge length field", "no usable checkpoint", "claims 2147483647 values") {
                run ->
                rewriteParams(run) { b -> lengthField(b, Int.MAX_VALUE) }
            },
            resumeCase(
                "a file that is not a tensor file",
                "no usable checkpoint",
                "is not a looplab tensor file",
            ) { run ->
                rewriteParams(run) {
                    "PK\u0003\u0004 some zip".toByteArray().let { z ->
                        byteArrayOf(0, z.size.toByte()) + z
                    }
                }
            },
        )

    /** The first tensor's length field of a tensor file set to [value]. */
    private fun lengthField(bytes: ByteArray, value: Int): ByteArray {
        val buffer = java.nio.ByteBuffer.wrap(bytes.copyOf())
        fun skipUtf() {
            val n = buffer.short.toInt() and 0xffff
            buffer.position(buffer.position() + n)
        }
        skipUtf()
        buffer.int
        buffer.int
        skipUtf()
        buffer.putInt(buffer.position(), value)
        return buffer.array()
    }
}
