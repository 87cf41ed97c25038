package looplab.curriculum.text

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer as DjlTokenizer
import java.io.ByteArrayInputStream
import java.nio.file.Files
import java.nio.file.Path
import java.util.zip.GZIPInputStream
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.contentOrNull
import kotlinx.serialization.json.intOrNull
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive

/**
 * Any Hugging Face `tokenizer.json`, run by DJL's HF tokenizers (Rust, native library from the
 * jar). looplab reads the file itself first, to name what is wrong with a bad one and to learn the
 * vocabulary size and the ids of PAD/BOS/EOS; chat tags the file lacks are appended to its
 * `added_tokens` as single tokens, so the native tokenizer itself keeps them whole.
 */
public class HuggingFaceTokenizer
private constructor(
    private val djl: DjlTokenizer,
    /**
     * The tokenizer.json document, chat tags included: what an export writes beside the weights.
     */
    public val document: JsonObject,
    public val source: String,
) : Tokenizer {
    private val idsByToken: Map<String, Int>
    override val vocabSize: Int
    override val pad: Int
    override val bos: Int
    override val eos: Int

    init {
        val vocab = (document["model"] as? JsonObject)?.get("vocab") as? JsonObject
        val added =
            (document["added_tokens"] as? JsonArray)
                .orEmpty()
                .mapNotNull { it as? JsonObject }
                .mapNotNull { t ->
                    t["content"]?.jsonPrimitive?.contentOrNull?.let { c ->
                        t["id"]?.jsonPrimitive?.intOrNull?.let { c to it }
                    }
                }
        idsByToken = vocab.orEmpty().mapValues { it.value.jsonPrimitive.intOrNull ?: -1 } + added
        vocabSize = (idsByToken.values.maxOrNull() ?: -1) + 1
        fun first(vararg names: String): Int? = names.firstNotNullOfOrNull { idsByToken[it] }
        eos =
            first("<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", "<|eot_id|>")
                ?: throw TokenizerLoadException(
                    "$source has no end-of-text token (<|endoftext|>, <|end_of_text|>, </s> or <eos>)"
                )
        bos = first("<|begin_of_text|>", "<s>", "<bos>") ?: eos
        pad = first("<|padding|>", "<pad>", "[PAD]") ?: eos
    }

    override fun encode(text: String): IntArray {
        val ids = djl.encode(text, false, false).ids
        return IntArray(ids.size) { ids[it].toInt() }
    }

    override fun decode(ids: IntArray): String =
        djl.decode(
            ids.filter { it != pad && it != bos && it != eos }.map { it.toLong() }.toLongArray(),
            false,
        )

    override fun specialId(token: String): Int? =
        if (token in ChatTags.all) idsByToken[token] else null

    public companion object {
        private val json = Json { ignoreUnknownKeys = true }

        /** The GPT-NeoX-20B tokenizer that ships with looplab (Apache-2.0 vocabulary). */
        public fun neox(): HuggingFaceTokenizer {
            val stream =
                HuggingFaceTokenizer::class.java.getResourceAsStream(NEOX)
                    ?: throw TokenizerLoadException(
                        "the GPT-NeoX tokenizer resource $NEOX is missing from this build"
                    )
            return fromBytes(
                GZIPInputStream(stream).use { it.readBytes() },
                "the bundled GPT-NeoX-20B tokenizer",
            )
        }

        /** A `tokenizer.json` (or `tokenizer.json.gz`) file. */
        public fun load(path: Path): HuggingFaceTokenizer {
            if (!Files.isRegularFile(path))
                throw TokenizerLoadException("$path: no such tokenizer file")
            val raw = Files.readAllBytes(path)
            val bytes =
                if (!path.toString().endsWith(".gz")) raw
                else
                    try {
                        GZIPInputStream(ByteArrayInputStream(raw)).use { it.readBytes() }
                    } catch (e: java.io.IOException) {
                        throw TokenizerLoadException(
                            "$path is not a valid tokenizer.json.gz: not gzip data, or cut short (${e.message})"
                        )
                    }
            return fromBytes(bytes, path.toString())
        }

        /** Parses [bytes] as a tokenizer.json from [source] (named in errors). */
        public fun fromBytes(bytes: ByteArray, source: String): HuggingFaceTokenizer {
            val root =
                try {
                    json.parseToJsonElement(bytes.decodeToString()) as? JsonObject
                } catch (e: Exception) {
                    throw TokenizerLoadException(
                        "$source is not a valid tokenizer.json: not JSON (${e.message?.lineSequence()?.first()})"
                    )
                }
                    ?: throw TokenizerLoadException(
                        "$source is not a valid tokenizer.json: the top level is not a JSON object"
                    )
            val model =
                root["model"] as? JsonObject
                    ?: throw TokenizerLoadException(
                        "$source is not a valid tokenizer.json: it has no \"model\" object"
                    )
            if (model["vocab"] !is JsonObject && model["vocab"] !is JsonArray) {
                throw TokenizerLoadException(
                    "$source is not a valid tokenizer.json: \"model\" has no \"vocab\""
                )
            }
            val withTags = withChatTags(root)
            val djl =
                try {
                    DjlTokenizer.newInstance(
                        ByteArrayInputStream(withTags.toString().toByteArray()),
                        OPTIONS,
                    )
                } catch (e: Exception) {
                    throw TokenizerLoadException(
                        "$source is not a valid tokenizer.json: ${e.message?.lineSequence()?.first()}",
                        e,
                    )
                }
            return HuggingFaceTokenizer(djl, withTags, source)
        }

        /**
         * [root] with every chat tag it lacks appended to `added_tokens`, ids after its largest.
         */
        private fun withChatTags(root: JsonObject): JsonObject {
            val added = (root["added_tokens"] as? JsonArray).orEmpty()
            val present =
                added
                    .mapNotNull {
                        (it as? JsonObject)?.get("content")?.jsonPrimitive?.contentOrNull
                    }
                    .toSet() +
                    ((root["model"]?.jsonObject?.get("vocab") as? JsonObject)?.keys ?: emptySet())
            val missing = ChatTags.all.filter { it !in present }
            if (missing.isEmpty()) return root
            val vocabMax =
                (root["model"]?.jsonObject?.get("vocab") as? JsonObject)
                    ?.values
                    ?.mapNotNull { it.jsonPrimitive.intOrNull }
                    ?.maxOrNull() ?: -1
            val addedMax =
                added
                    .mapNotNull { (it as? JsonObject)?.get("id")?.jsonPrimitive?.intOrNull }
                    .maxOrNull() ?: -1
            var next = maxOf(vocabMax, addedMax) + 1
            val extra = missing.map { tag -> addedToken(next++, tag) }
            return JsonObject(root + ("added_tokens" to JsonArray(added + extra)))
        }

        internal fun addedToken(id: Int, content: String): JsonObject = buildJsonObject {
            put("id", JsonPrimitive(id))
            put("content", JsonPrimitive(content))
            put("single_word", JsonPrimitive(false))
            put("lstrip", JsonPrimitive(false))
            put("rstrip", JsonPrimitive(false))
            put("normalized", JsonPrimitive(false))
            put("special", JsonPrimitive(true))
        }

        /**
         * DJL truncates to 512 tokens unless told otherwise: a corpus document would be cut
         * silently.
         */
        public val OPTIONS: Map<String, String> =
            mapOf(
                "addSpecialTokens" to "false",
                "truncation" to "false",
                "padding" to "false",
                "maxLength" to "-1",
            )

        private const val NEOX = "/looplab/tokenizers/gpt-neox-20b.tokenizer.json.gz"
    }
}
