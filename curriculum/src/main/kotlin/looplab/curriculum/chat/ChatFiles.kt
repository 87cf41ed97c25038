package looplab.curriculum.chat

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.contentOrNull
import looplab.dsl.UserFacingError

/** A chat file that cannot be read; the message names the file, the line and what is wrong. */
public class ChatDataException(message: String) : IllegalArgumentException(message), UserFacingError

/**
 * Reads conversations from JSONL: one object per line, `{"messages":
 * [{"role": "system", "content": "..."}, {"role": "user", "content": "..."}, {"role": "assistant", "content": "...", "think": "...", "answer": "..."}]}`;
 * blank lines are skipped. Every problem of the file is reported at once, each as `file:line:
 * what`.
 */
public object ChatFiles {
    private val keys =
        mapOf(
            "system" to setOf("role", "content"),
            "user" to setOf("role", "content"),
            "assistant" to setOf("role", "content", "think", "answer"),
        )

    @JvmStatic
    public fun read(path: Path): List<Conversation> {
        if (!Files.isRegularFile(path)) throw ChatDataException("$path: no such chat file")
        val problems = mutableListOf<String>()
        val conversations = mutableListOf<Conversation>()
        Files.readAllLines(path).forEachIndexed { i, line ->
            if (line.isBlank()) return@forEachIndexed
            val where = "$path:${i + 1}"
            val errors = mutableListOf<String>()
            parse(line, errors)?.let { conversation ->
                errors += conversation.problems()
                if (errors.isEmpty()) conversations += conversation
            }
            problems += errors.map { "$where: $it" }
        }
        if (problems.isNotEmpty()) throw ChatDataException(problems.joinToString("\n"))
        if (conversations.isEmpty()) throw ChatDataException("$path: holds no conversations")
        return conversations
    }

    private fun parse(line: String, errors: MutableList<String>): Conversation? {
        val root =
            try {
                Json.parseToJsonElement(line)
            } catch (e: IllegalArgumentException) {
                errors += "not JSON (${e.message?.lineSequence()?.first()})"
                return null
            }
        if (root !is JsonObject)
            return null.also { errors += "expected an object {\"messages\": [...]}" }
        (root.keys - "messages").forEach { errors += "unknown key \"$it\"" }
        val messages =
            root["messages"] as? JsonArray
                ?: return null.also { errors += "\"messages\" must be an array of messages" }
        var system: String? = null
        val turns = mutableListOf<Turn>()
        messages.forEachIndexed { m, element ->
            val at = "messages[$m]"
            val message =
                element as? JsonObject
                    ?: return@forEachIndexed run { errors += "$at: expected an object" }
            fun text(key: String): String? =
                when (val v = message[key]) {
                    null -> null
                    is JsonPrimitive ->
                        v.contentOrNull?.takeIf { v.isString }
                            ?: null.also { errors += "$at.$key: must be a string" }
                    else -> null.also { errors += "$at.$key: must be a string" }
                }
            val role = text("role")
            val allowed =
                keys[role]
                    ?: return@forEachIndexed run {
                        errors +=
                            "$at.role: must be \"system\", \"user\" or \"assistant\", was ${message["role"]}"
                    }
            (message.keys - allowed).forEach {
                errors += "$at: unknown key \"$it\" for a $role message"
            }
            val content = text("content")
            when (role) {
                "system" ->
                    if (m != 0) errors += "$at: a system message may only come first"
                    else system = content ?: "".also { errors += "$at.content: missing" }
                "user" -> turns += UserTurn(content ?: "".also { errors += "$at.content: missing" })
                else -> turns += AssistantTurn(content ?: "", text("think"), text("answer"))
            }
        }
        return Conversation(system, turns)
    }
}
