package looplab.curriculum.text.bpe

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonArray
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.contentOrNull
import kotlinx.serialization.json.intOrNull
import kotlinx.serialization.json.jsonPrimitive
import looplab.curriculum.text.HuggingFaceTokenizer
import looplab.curriculum.text.TokenizerLoadException

/**
 * Writes a [BpeTokenizer] as a Hugging Face `tokenizer.json` (BPE model, ByteLevel pre-tokenizer
 * and decoder, PAD/BOS/EOS and the chat tags as special added tokens) and reads one back.
 */
public object TokenizerJson {
    private val json = Json { prettyPrint = false }

    public fun write(tokenizer: BpeTokenizer, path: Path) {
        Files.writeString(path, encode(tokenizer))
    }

    public fun encode(tokenizer: BpeTokenizer): String {
        fun text(id: Int): String =
            if (id < BpeTokenizer.FIRST_BYTE) BpeTokenizer.SPECIALS[id]
            else ByteLevel.encode(tokenizer.bytes(id))
        val byteLevel = buildJsonObject {
            put("type", JsonPrimitive("ByteLevel"))
            put("add_prefix_space", JsonPrimitive(false))
            put("trim_offsets", JsonPrimitive(true))
            put("use_regex", JsonPrimitive(true))
        }
        val root = buildJsonObject {
            put("version", JsonPrimitive("1.0"))
            put("truncation", JsonNull)
            put("padding", JsonNull)
            put(
                "added_tokens",
                JsonArray(
                    BpeTokenizer.SPECIALS.mapIndexed { id, t ->
                        HuggingFaceTokenizer.addedToken(id, t)
                    }
                ),
            )
            put("normalizer", JsonNull)
            put("pre_tokenizer", byteLevel)
            put("post_processor", JsonNull)
            put("decoder", byteLevel)
            put(
                "model",
                buildJsonObject {
                    put("type", JsonPrimitive("BPE"))
                    put("dropout", JsonNull)
                    put("unk_token", JsonNull)
                    put("continuing_subword_prefix", JsonNull)
                    put("end_of_word_suffix", JsonNull)
                    put("fuse_unk", JsonPrimitive(false))
                    put("byte_fallback", JsonPrimitive(false))
                    put(
                        "vocab",
                        buildJsonObject {
                            for (id in 0 until tokenizer.vocabSize) put(text(id), JsonPrimitive(id))
                        },
                    )
                    put(
                        "merges",
                        buildJsonArray {
                            tokenizer.merges.forEach { (a, b) ->
                                add(JsonPrimitive("${text(a)} ${text(b)}"))
                            }
                        },
                    )
                },
            )
        }
        return json.encodeToString(JsonObject.serializer(), root)
    }

    /** Reads a tokenizer.json written by [write] back into looplab's encoder. */
    public fun read(path: Path): BpeTokenizer {
        val source = path.toString()
        val root =
            try {
                Json.parseToJsonElement(Files.readString(path)) as? JsonObject
            } catch (e: Exception) {
                throw TokenizerLoadException(
                    "$source is not a valid tokenizer.json: ${e.message?.lineSequence()?.first()}"
                )
            }
                ?: throw TokenizerLoadException(
                    "$source is not a valid tokenizer.json: not a JSON object"
                )
        val model =
            root["model"] as? JsonObject
                ?: throw TokenizerLoadException(
                    "$source is not a valid tokenizer.json: no \"model\""
                )
        val vocab =
            (model["vocab"] as? JsonObject)?.mapValues { it.value.jsonPrimitive.intOrNull ?: -1 }
                ?: throw TokenizerLoadException(
                    "$source is not a valid tokenizer.json: no \"model.vocab\""
                )
        val merges =
            (model["merges"] as? JsonArray)
                ?: throw TokenizerLoadException(
                    "$source is not a valid tokenizer.json: no \"model.merges\""
                )
        val pairs =
            merges.mapIndexed { k, m ->
                val parts =
                    when (m) {
                        is JsonPrimitive -> m.contentOrNull?.split(' ')
                        is JsonArray -> m.map { it.jsonPrimitive.content }
                        else -> null
                    }
                if (parts == null || parts.size != 2)
                    throw TokenizerLoadException("$source: merge $k is not a pair of tokens")
                val a =
                    vocab[parts[0]]
                        ?: throw TokenizerLoadException(
                            "$source: merge $k uses \"${parts[0]}\", which is not in the vocabulary"
                        )
                val b =
                    vocab[parts[1]]
                        ?: throw TokenizerLoadException(
                            "$source: merge $k uses \"${parts[1]}\", which is not in the vocabulary"
                        )
                a to b
            }
        val tokenizer = BpeTokenizer(pairs)
        // Only a file in looplab's id layout can be run by looplab's encoder; others go through
        // DJL.
        if (
            vocab.size != tokenizer.vocabSize ||
                (0 until tokenizer.vocabSize).any { id ->
                    vocab[
                        BpeTokenizer.SPECIALS.getOrNull(id)
                            ?: ByteLevel.encode(tokenizer.bytes(id))] != id
                }
        ) {
            throw TokenizerLoadException(
                "$source is not in looplab's BPE layout (specials, bytes, merges); load it as Tokenizers.huggingFace(path)"
            )
        }
        return tokenizer
    }
}
