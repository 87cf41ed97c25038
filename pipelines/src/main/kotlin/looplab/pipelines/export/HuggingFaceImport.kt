package looplab.pipelines.export

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.booleanOrNull
import kotlinx.serialization.json.contentOrNull
import kotlinx.serialization.json.doubleOrNull
import kotlinx.serialization.json.intOrNull
import kotlinx.serialization.json.jsonPrimitive
import looplab.dsl.ModelSpec
import looplab.dsl.experiment
import looplab.models.LanguageModel
import looplab.models.Models
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore

/** A Llama checkpoint loaded as a looplab baseline: its spec, model and weights. */
public class ImportedModel(
    public val spec: ModelSpec,
    public val model: LanguageModel,
    public val store: ParameterStore,
) : AutoCloseable {
    override fun close(): Unit = store.close()
}

/**
 * Loads a `LlamaForCausalLM` folder (`config.json` + `model.safetensors`) as a looplab baseline
 * (`recursive(blocks = layers, loops = 1)`): the inverse of [HuggingFaceExport] for plain decoders.
 */
public object HuggingFaceImport {
    private val json = Json { ignoreUnknownKeys = true }

    public fun load(dir: Path, backend: EagerBackend, name: String = "imported"): ImportedModel {
        val configFile = dir.resolve("config.json")
        val weightsFile = dir.resolve("model.safetensors")
        for (f in listOf(configFile, weightsFile)) if (!Files.isRegularFile(f))
            throw ExportException(
                "$dir: no ${f.fileName} there (a Llama checkpoint folder has config.json and model.safetensors)"
            )
        val config =
            try {
                json.parseToJsonElement(Files.readString(configFile)) as JsonObject
            } catch (e: Exception) {
                throw ExportException(
                    "$configFile is not a JSON object: ${e.message?.lineSequence()?.first()}"
                )
            }
        val spec = specOf(config, configFile, name)
        val model = Models.build(spec, spec.vocabSize!!)
        val tensors = Safetensors.read(weightsFile)
        val store = ParameterStore(model.parameters, backend, seed = 0)
        try {
            store.load(LlamaNames.fromHuggingFace(spec, tensors))
        } catch (e: IllegalArgumentException) {
            store.close()
            throw ExportException("$weightsFile does not fit its config.json: ${e.message}")
        }
        return ImportedModel(spec, model, store)
    }

    private fun specOf(config: JsonObject, file: Path, name: String): ModelSpec {
        fun prim(key: String) = (config[key] as? JsonPrimitive)
        fun int(key: String): Int =
            prim(key)?.intOrNull
                ?: throw ExportException("$file: \"$key\" is missing or not an integer")
        fun double(key: String, default: Double): Double = prim(key)?.doubleOrNull ?: default
        val type = prim("model_type")?.contentOrNull
        if (type != "llama")
            throw ExportException(
                "$file: model_type is \"$type\"; looplab imports Llama checkpoints (model_type \"llama\")"
            )
        val ropeBase =
            prim("rope_theta")?.doubleOrNull
                ?: ((config["rope_parameters"] as? JsonObject)
                    ?.get("rope_theta")
                    ?.jsonPrimitive
                    ?.doubleOrNull)
                ?: 10_000.0
        val hidden = int("hidden_size")
        val heads = int("num_attention_heads")
        val headDim = prim("head_dim")?.intOrNull
        if (headDim != null && headDim * heads != hidden)
            throw ExportException(
                "$file: head_dim $headDim × $heads heads ≠ hidden_size $hidden, which looplab's attention requires"
            )
        return experiment("import") {
                model(name) {
                    width = hidden
                    this.heads = heads
                    kvHeads = prim("num_key_value_heads")?.intOrNull?.takeIf { it != heads }
                    layers = int("num_hidden_layers")
                    contextLength = int("max_position_embeddings")
                    ffnHidden = int("intermediate_size")
                    normEps = double("rms_norm_eps", 1e-6)
                    vocabSize = int("vocab_size")
                    rope(base = ropeBase)
                    tiedEmbeddings = prim("tie_word_embeddings")?.booleanOrNull ?: false
                }
            }
            .models
            .single()
    }
}
