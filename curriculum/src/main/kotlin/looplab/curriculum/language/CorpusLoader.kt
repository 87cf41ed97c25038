package looplab.curriculum.language

import java.nio.ByteBuffer
import java.nio.charset.CharacterCodingException
import java.nio.charset.CodingErrorAction
import java.nio.charset.MalformedInputException
import java.nio.file.Files
import java.nio.file.Path
import java.util.zip.GZIPInputStream
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import looplab.dsl.AustenCorpus
import looplab.dsl.CorpusSpec
import looplab.dsl.JsonlCorpus
import looplab.dsl.SotuCorpus
import looplab.dsl.TextFileCorpus
import looplab.dsl.UserFacingError

/**
 * A corpus that cannot be read or holds nothing to train on; the message names the file and the
 * problem.
 */
public class CorpusException(message: String) : IllegalArgumentException(message), UserFacingError

/** A corpus as documents, in their order in the source. */
public class Documents(public val name: String, public val documents: List<String>)

/** Reads the shipped corpora and the user's own text or JSON Lines files. */
public object CorpusLoader {
    private val chapter = Regex("^(CHAPTER|Chapter) [IVXLC0-9]+\\.?\\s*$")

    public fun load(spec: CorpusSpec): Documents =
        when (spec) {
            AustenCorpus ->
                Documents(
                    "austen (Jane Austen's six novels, one document per chapter)",
                    chapters(resource("janeausten.txt.gz")),
                )
            SotuCorpus ->
                Documents(
                    "sotu (State of the Union addresses, one document per speech)",
                    resource("sotu.txt.gz").lines().filter { it.isNotBlank() },
                )
            is TextFileCorpus ->
                Documents(
                    "${spec.path} (documents separated by ${spec.separator})",
                    text(Path.of(spec.path), spec.separator),
                )
            is JsonlCorpus ->
                Documents(
                    "${spec.path} (JSON Lines, field \"${spec.field}\")",
                    jsonl(Path.of(spec.path), spec.field),
                )
        }

    /** Austen's novels cut at chapter headings; each book's title page joins its first chapter. */
    private fun chapters(text: String): List<String> {
        val docs = mutableListOf<String>()
        val current = StringBuilder()
        for (line in text.lineSequence()) {
            if (chapter.matches(line) && current.isNotBlank()) {
                docs += current.toString().trim()
                current.setLength(0)
            }
            current.append(line).append('\n')
        }
        if (current.isNotBlank()) docs += current.toString().trim()
        return docs
    }

    private fun resource(name: String): String {
        val stream =
            CorpusLoader::class.java.getResourceAsStream("/looplab/corpora/$name")
                ?: throw CorpusException("the corpus resource $name is missing from this build")
        return GZIPInputStream(stream).use { it.readBytes() }.decodeToString()
    }

    /** Plain text split at [separator]; blank documents are dropped. */
    public fun text(path: Path, separator: String): List<String> {
        val docs = readUtf8(path).split(separator).map { it.trim() }.filter { it.isNotEmpty() }
        if (docs.isEmpty())
            throw CorpusException(
                "$path: no documents: the file is empty or holds only separators and whitespace"
            )
        return docs
    }

    /** One document per line, from the string field [field]. */
    public fun jsonl(path: Path, field: String): List<String> {
        val docs = mutableListOf<String>()
        readUtf8(path).lineSequence().forEachIndexed { i, line ->
            if (line.isBlank()) return@forEachIndexed
            val obj =
                try {
                    Json.parseToJsonElement(line) as? JsonObject
                } catch (e: Exception) {
                    null
                } ?: throw CorpusException("$path:${i + 1}: not a JSON object")
            val value = obj[field] as? JsonPrimitive
            if (value == null || !value.isString)
                throw CorpusException(
                    "$path:${i + 1}: no string field \"$field\" (fields: ${obj.keys.joinToString()})"
                )
            if (value.content.isNotBlank()) docs += value.content
        }
        if (docs.isEmpty())
            throw CorpusException(
                "$path: no documents: the file is empty or every \"$field\" is blank"
            )
        return docs
    }

    private fun readUtf8(path: Path): String {
        if (!Files.isRegularFile(path)) throw CorpusException("$path: no such file")
        val bytes = Files.readAllBytes(path)
        if (bytes.isEmpty()) throw CorpusException("$path: the file is empty")
        val decoder =
            Charsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
        return try {
            decoder.decode(ByteBuffer.wrap(bytes)).toString()
        } catch (e: MalformedInputException) {
            throw CorpusException(
                "$path: not UTF-8 text (invalid byte sequence at byte ${firstBadByte(bytes)})"
            )
        } catch (e: CharacterCodingException) {
            throw CorpusException("$path: not UTF-8 text")
        }
    }

    /** The offset of the first byte that breaks UTF-8, for the error message. */
    private fun firstBadByte(bytes: ByteArray): Int {
        val decoder = Charsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        val input = ByteBuffer.wrap(bytes)
        val out = java.nio.CharBuffer.allocate(bytes.size + 1)
        val result = decoder.decode(input, out, true)
        return if (result.isError) input.position() else -1
    }
}
