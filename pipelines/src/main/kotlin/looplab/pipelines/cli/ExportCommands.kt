package looplab.pipelines.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.arguments.optional
import com.github.ajalt.clikt.parameters.groups.provideDelegate
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.options.required
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.path
import java.nio.file.Files
import kotlin.random.Random
import looplab.curriculum.text.HuggingFaceTokenizer
import looplab.curriculum.text.Tokenizer
import looplab.dsl.ModelSpec
import looplab.models.LanguageModel
import looplab.models.Models
import looplab.models.decode.Generator
import looplab.models.decode.SamplingConfig
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.pipelines.bench.BenchModels
import looplab.pipelines.export.HuggingFaceExport
import looplab.pipelines.export.HuggingFaceImport
import looplab.pipelines.export.Npy
import looplab.pipelines.generate.TextStream
import looplab.pipelines.generate.TrainedModel

/**
 * `looplab export`: a trained variant (or a bench model at its seeded initialisation) in the
 * Hugging Face layout.
 */
public class ExportCommand : CliktCommand(name = "export") {
    override fun help(context: Context): String =
        "Write a trained variant as model.safetensors, config.json, generation_config.json and tokenizer.json: " +
            "a plain decoder as LlamaForCausalLM, a looped one with modeling_looplab.py (trust_remote_code)."

    private val runDir by
        argument(help = "A run folder (runs/<experiment>/<time>); leave out with --bench-model.")
            .path()
            .optional()
    private val to by option("--to", help = "The folder to write.").path().required()
    private val benchModel by
        option(
            "--bench-model",
            help =
                "Export a bench model (${BenchModels.all.joinToString { it.name }}) at its seeded initialisation instead of a run's variant.",
        )
    private val checkLogits by
        option(
                "--check-logits",
                help =
                    "Also write looplab_ids.npy and looplab_logits.npy (fp32 logits of two random sequences) for bench/hf_check.py.",
            )
            .flag()
    private val checkTokens by
        option("--check-tokens", help = "Tokens per sequence for --check-logits.").int().default(32)
    private val choice by ModelChoice()

    override fun run(): Unit = reportingErrors {
        EagerBackend().use { backend ->
            if (benchModel != null) {
                if (runDir != null) throw UsageError("give a run folder or --bench-model, not both")
                val bench =
                    BenchModels.named(benchModel!!)
                        ?: throw UsageError(
                            "unknown bench model \"$benchModel\"; known: ${BenchModels.all.joinToString { it.name }}"
                        )
                val model = Models.build(bench.spec, bench.vocabSize)
                // No tokenizer: the bench's GPU package leaves tokenizers behind, and the checks
                // use random ids.
                ParameterStore(model.parameters, backend, seed = 1).use { store ->
                    export(bench.spec, model, store, null, backend)
                }
            } else {
                val dir =
                    runDir ?: throw UsageError("name a run folder to export (or --bench-model)")
                TrainedModel.load(dir, choice.variant, choice.stage, backend).use {
                    export(it.spec, it.model, it.store, it.tokenizer, backend)
                }
            }
        }
    }

    private fun export(
        spec: ModelSpec,
        model: LanguageModel,
        store: ParameterStore,
        tokenizer: Tokenizer?,
        backend: EagerBackend,
    ) {
        val shapes = store.registry.all.associate { it.name to it.shape }
        val format =
            HuggingFaceExport.export(spec, model.vocabSize, store.snapshot(), shapes, tokenizer, to)
        echo(
            "Exported ${spec.name} to $to as ${if (format == looplab.pipelines.export.ExportFormat.Llama) "LlamaForCausalLM" else "LooplabForCausalLM (modeling_looplab.py, trust_remote_code=True)"}"
        )
        if (checkLogits) {
            val rows = 2
            val length = minOf(checkTokens, spec.contextLength)
            val random = Random(17)
            val ids =
                IntArray(rows * length) {
                    random.nextInt(3, tokenizer?.vocabSize ?: model.vocabSize)
                }
            val logits =
                EagerExecutor(backend)
                    .run(store, train = false) { ops, params ->
                        listOf(model.logits(ops, params, ops.tokens(ids, rows, length)))
                    }[0]
            Npy.writeInts(to.resolve("looplab_ids.npy"), ids, listOf(rows, length))
            Npy.writeFloats(
                to.resolve("looplab_logits.npy"),
                logits,
                listOf(rows, length, model.vocabSize),
            )
            echo(
                "Wrote looplab_ids.npy and looplab_logits.npy ($rows × $length tokens) for bench/hf_check.py"
            )
        }
    }
}

/** `looplab import`: a Llama-format checkpoint as a looplab baseline model. */
public class ImportCommand : CliktCommand(name = "import") {
    override fun help(context: Context): String =
        "Load a LlamaForCausalLM folder (config.json, model.safetensors, tokenizer.json) as a looplab baseline and continue a prompt with it."

    private val dir by
        argument(help = "A folder with config.json, model.safetensors and tokenizer.json.").path()
    private val prompt by
        option("--prompt", help = "Text to continue greedily with the imported model.").default("")
    private val maxNewTokens by
        option("--max-new-tokens", help = "Tokens to generate.").int().default(32)

    override fun run(): Unit = reportingErrors {
        EagerBackend().use { backend ->
            HuggingFaceImport.load(dir, backend).use { imported ->
                val spec = imported.spec
                echo(
                    "Imported ${spec.recursive.blocks} layers, width ${spec.width}, ${spec.heads} heads (${spec.resolvedKvHeads} KV), vocabulary ${spec.vocabSize}, ${imported.store.count} parameters"
                )
                val tokenizerFile = dir.resolve("tokenizer.json")
                if (prompt.isEmpty()) return@use
                if (!Files.isRegularFile(tokenizerFile))
                    throw UsageError("$dir has no tokenizer.json, so --prompt cannot be encoded")
                val tokenizer = HuggingFaceTokenizer.load(tokenizerFile)
                val generator =
                    Generator(
                        imported.model,
                        imported.store,
                        EagerExecutor(backend),
                        backend.manager,
                    )
                echo(prompt, trailingNewline = false)
                val stream = TextStream(tokenizer) { echo(it, trailingNewline = false) }
                generator.generate(
                    listOf(intArrayOf(tokenizer.bos) + tokenizer.encode(prompt)),
                    SamplingConfig.greedy(maxNewTokens, tokenizer.eos),
                ) { _, t ->
                    stream.add(t)
                }
                stream.finish()
                echo("")
            }
        }
    }
}
