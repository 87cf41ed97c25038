package looplab.pipelines.generate

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import com.github.ajalt.mordant.terminal.Terminal
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path
import kotlin.math.sqrt
import looplab.curriculum.tasks.TaskRegistry
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.pipelines.cli.ChatCommand
import looplab.pipelines.cli.ExportCommand
import looplab.pipelines.cli.GenerateCommand
import looplab.pipelines.cli.LooplabCommand
import looplab.pipelines.eval.AlgorithmicEvaluator
import looplab.pipelines.eval.GreedyDecoder
import looplab.pipelines.export.HuggingFaceImport
import looplab.pipelines.plan.Planner
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import looplab.pipelines.tinyExperiment

/**
 * Generation on a trained tiny run: evaluation with the cache, the CLI (generate, chat), export and
 * import.
 */
class GenerationSpec :
    FunSpec({
        val runs = Files.createTempDirectory("gen-runs")
        // A context of 64: the char tokenizer spells each chat tag out (about a dozen tokens).
        val spec =
            tinyExperiment(steps = 30, evalEvery = null).let { e ->
                e.copy(models = e.models.map { it.copy(contextLength = 64) })
            }
        val run by lazy { Runner(terminal = Terminal()).run(spec, RunOptions(runsDir = runs)).dir }
        fun cli(args: String, stdin: String = "") =
            LooplabCommand()
                .subcommands(GenerateCommand(), ChatCommand(), ExportCommand())
                .test(args, stdin = stdin)

        test(
            "the evaluation grid gives the same outputs and accuracies with the cache as without"
        ) {
            val backend = EagerBackend()
            backend.use {
                val data = Planner(TaskRegistry()).compileResolved(spec).second
                for (variant in listOf("baseline", "shared_loop")) {
                    TrainedModel.load(run, variant, null, backend).use { trained ->
                        val eos = trained.tokenizer.eos
                        val cached =
                            GreedyDecoder(
                                trained.model,
                                trained.store,
                                backend,
                                eos,
                                EagerExecutor(backend),
                                cached = true,
                            )
                        val uncached =
                            GreedyDecoder(
                                trained.model,
                                trained.store,
                                backend,
                                eos,
                                EagerExecutor(backend),
                                cached = false,
                            )
                        val tasks = data.mixture!!.tasks
                        val withCache =
                            AlgorithmicEvaluator(cached, trained.tokenizer, 7)
                                .evaluate(tasks, samples = 6, maxNewTokens = 8)
                        val without =
                            AlgorithmicEvaluator(uncached, trained.tokenizer, 7)
                                .evaluate(tasks, samples = 6, maxNewTokens = 8)
                        withCache shouldBe without
                        // The outputs themselves, on prompts of mixed lengths in one batch.
                        val prompts =
                            listOf("01", "0110", "abc", "1").map {
                                intArrayOf(trained.tokenizer.bos) + trained.tokenizer.encode(it)
                            }
                        cached.complete(prompts, 8).map { it.toList() } shouldBe
                            uncached.complete(prompts, 8).map { it.toList() }
                    }
                }
            }
        }

        test("looplab generate streams a continuation; bad choices give clear errors") {
            val out = cli("generate $run --variant baseline --prompt 0110 --max-new-tokens 6")
            withClue(out.output) { out.statusCode shouldBe 0 }
            out.output shouldContain "0110"
            val sampled =
                cli(
                    "generate $run --variant shared_loop --prompt 01 --temperature 0.8 --top-k 5 --top-p 0.9 --seed 3"
                )
            sampled.output shouldBe
                cli(
                        "generate $run --variant shared_loop --prompt 01 --temperature 0.8 --top-k 5 --top-p 0.9 --seed 3"
                    )
                    .output
            for ((args, expected) in
                listOf(
                    "generate $run --prompt x" to "choose one with --variant",
                    "generate $run --variant nope --prompt x" to "no such variant",
                    "generate $run --variant baseline --stage nope --prompt x" to
                        "no such training stage",
                    "generate ${runs.resolve("absent")} --prompt x" to "not a looplab run folder",
                    "generate $run --variant baseline --prompt x --top-p 0" to
                        "topP must be in (0, 1]",
                )) {
                val failed = cli(args)
                withClue(args) {
                    failed.statusCode shouldNotBe 0
                    failed.output shouldContain expected
                    failed.output shouldNotContain "Exception"
                }
            }
        }

        test("looplab chat follows scripted input: replies, /reset, /exit") {
            val out =
                cli(
                    "chat $run --variant baseline --max-new-tokens 5",
                    stdin = "0110\n/reset\n01\n/exit\nnever read\n",
                )
            withClue(out.output) { out.statusCode shouldBe 0 }
            println("looplab chat transcript (scripted stdin):\n${out.output}")
            out.output shouldContain "Chatting with baseline"
            out.output.split("baseline> ").size shouldBe 3 // two replies
            out.output shouldContain "(conversation reset)"
            out.output shouldContain "bye"
            out.output shouldNotContain "never read"
        }

        test(
            "a plain decoder exports as LlamaForCausalLM and imports back to the same logits; a looped one ships its modeling file"
        ) {
            val llama = Files.createTempDirectory("export-llama")
            val export =
                cli("export $run --variant baseline --to $llama --check-logits --check-tokens 12")
            withClue(export.output) { export.statusCode shouldBe 0 }
            Files.readString(llama.resolve("config.json")) shouldContain "\"LlamaForCausalLM\""
            Files.exists(llama.resolve("generation_config.json")) shouldBe true
            val header = safetensorsHeader(llama.resolve("model.safetensors"))
            header shouldContain "\"model.layers.1.self_attn.q_proj.weight\""
            header shouldContain "\"model.embed_tokens.weight\""
            val ids =
                readNpy(llama.resolve("looplab_ids.npy"), 8).let { b ->
                    IntArray(24) { b.getLong(it * 8).toInt() }
                }
            val logits =
                readNpy(llama.resolve("looplab_logits.npy"), 4).let { b ->
                    FloatArray(b.capacity() / 4) { b.getFloat(it * 4) }
                }
            EagerBackend().use { backend ->
                HuggingFaceImport.load(llama, backend).use { imported ->
                    val again =
                        EagerExecutor(backend)
                            .run(imported.store, train = false) { ops, params ->
                                listOf(imported.model.logits(ops, params, ops.tokens(ids, 2, 12)))
                            }[0]
                    relativeL2(again, logits) shouldBeLessThan 1e-6
                }
            }
            val looped = Files.createTempDirectory("export-looped")
            cli("export $run --variant shared_loop --to $looped").statusCode shouldBe 0
            Files.readString(looped.resolve("config.json")) shouldContain "\"LooplabForCausalLM\""
            Files.exists(looped.resolve("modeling_looplab.py")) shouldBe true
            safetensorsHeader(looped.resolve("model.safetensors")) shouldContain
                "\"blocks.0.attn.wq\""
        }
    })

/** The JSON header of a safetensors file, read by the format's definition (not through DJL). */
private fun safetensorsHeader(path: Path): String {
    val bytes = Files.readAllBytes(path)
    val length = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).long.toInt()
    return String(bytes, 8, length, Charsets.UTF_8)
}

/** The data of a .npy file after its header. */
private fun readNpy(path: Path, @Suppress("UNUSED_PARAMETER") itemSize: Int): ByteBuffer {
    val bytes = Files.readAllBytes(path)
    val headerLength = (bytes[8].toInt() and 0xFF) or ((bytes[9].toInt() and 0xFF) shl 8)
    return ByteBuffer.wrap(bytes, 10 + headerLength, bytes.size - 10 - headerLength)
        .slice()
        .order(ByteOrder.LITTLE_ENDIAN)
}

private fun relativeL2(actual: FloatArray, reference: FloatArray): Double {
    var d = 0.0
    var n = 0.0
    for (i in reference.indices) {
        d += (actual[i] - reference[i]).toDouble().let { it * it }
        n += reference[i].toDouble() * reference[i]
    }
    return sqrt(d) / maxOf(sqrt(n), 1e-3)
}
