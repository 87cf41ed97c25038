package looplab.dsl

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.put

/** An override names a field that does not exist or a value that cannot go there. */
public class SpecOverrideException(message: String) :
    IllegalArgumentException(message), UserFacingError

/**
 * `path=value` changes to a spec, the path written as validation writes it: `seed=7`,
 * `model[baseline].width=256`, `pipeline.pretrain.budget=300.steps`, `data.tokenizer.type=bytes`.
 *
 * The spec is edited as its JSON (model and stage are found by name and id), so every field the
 * JSON has can be set and the result is read back exactly like a JSON spec: an override is checked
 * like the DSL, by [validate], with the same paths in its errors.
 *
 * A value is a budget (`300.steps`, `2.M.tokens`; `k`, `M`, `B` multiply), JSON (`0.5`, `true`,
 * `null`, `"text"`, `{"type": "gpu", "index": 0}`), or else a plain word taken as a string
 * (`Compiled`).
 */
public object SpecOverrides {
    public fun apply(spec: ExperimentSpec, overrides: List<String>): ExperimentSpec {
        if (overrides.isEmpty()) return spec
        var tree: JsonElement = SpecJson.json.encodeToJsonElement(ExperimentSpec.serializer(), spec)
        for (override in overrides) {
            val eq = override.indexOf('=')
            if (eq <= 0)
                throw SpecOverrideException(
                    "--set $override: expected path=value, e.g. model[baseline].width=256"
                )
            val path = override.substring(0, eq).trim()
            tree =
                set(
                    tree,
                    steps(path, override),
                    parseValue(override.substring(eq + 1).trim()),
                    override,
                )
        }
        return SpecJson.decode(tree.toString(), "--set ${overrides.joinToString(" --set ")}")
    }

    /** One step into the JSON tree: a field, a model by name, or a stage by id. */
    private sealed interface Step {
        data class Field(val name: String) : Step

        data class Named(val list: String, val key: String, val value: String) : Step
    }

    private val modelStep = Regex("""model\[([^\]]+)]""")

    private fun steps(path: String, override: String): List<Step> {
        val parts = Regex("""[^.\[]+(\[[^\]]*])?""").findAll(path).map { it.value }.toList()
        if (parts.isEmpty() || parts.joinToString(".") != path)
            throw SpecOverrideException(
                "--set $override: \"$path\" is not a field path like model[baseline].width"
            )
        val result = mutableListOf<Step>()
        var i = 0
        while (i < parts.size) {
            val part = parts[i]
            val model = modelStep.matchEntire(part)
            when {
                model != null -> result += Step.Named("models", "name", model.groupValues[1])
                part == "pipeline" && i + 1 < parts.size -> {
                    result += Step.Field("pipeline")
                    result += Step.Named("stages", "id", parts[++i])
                }
                part.contains('[') ->
                    throw SpecOverrideException(
                        "--set $override: \"$part\" — only models are picked by name, as model[name]"
                    )
                else -> result += Step.Field(part)
            }
            i++
        }
        return result
    }

    private fun set(
        node: JsonElement,
        steps: List<Step>,
        value: JsonElement,
        override: String,
        at: String = "",
    ): JsonElement {
        if (steps.isEmpty()) return fitted(value, node)
        val obj =
            node as? JsonObject
                ?: throw SpecOverrideException(
                    "--set $override: ${at.ifEmpty { "the spec" }} is ${describe(node)}, it has no fields to set"
                )
        return when (val step = steps.first()) {
            is Step.Field -> {
                val child =
                    obj[step.name]
                        ?: throw SpecOverrideException(
                            "--set $override: ${if (at.isEmpty()) "" else "$at "}has no field \"${step.name}\" (fields: ${obj.keys.filter { it != "type" }.joinToString()})"
                        )
                JsonObject(
                    obj +
                        (step.name to
                            set(child, steps.drop(1), value, override, join(at, step.name)))
                )
            }
            is Step.Named -> {
                val list = obj[step.list] as JsonArray
                val index =
                    list.indexOfFirst {
                        (it as? JsonObject)?.get(step.key)?.jsonPrimitive?.content == step.value
                    }
                if (index < 0) {
                    val names =
                        list.mapNotNull {
                            (it as? JsonObject)?.get(step.key)?.jsonPrimitive?.content
                        }
                    val what = if (step.list == "models") "model named" else "stage with id"
                    throw SpecOverrideException(
                        "--set $override: there is no $what \"${step.value}\" (there are: ${names.joinToString()})"
                    )
                }
                val label =
                    if (step.list == "models") "model[${step.value}]" else join(at, step.value)
                val changed =
                    list.toMutableList().also {
                        it[index] = set(list[index], steps.drop(1), value, override, label)
                    }
                JsonObject(obj + (step.list to JsonArray(changed)))
            }
        }
    }

    /**
     * A budget literal carries its type for the sealed `budget`; a field that is always a step
     * count (`evalEvery`, `warmup`: no "type" in its JSON, or null) takes the plain count.
     */
    private fun fitted(value: JsonElement, old: JsonElement): JsonElement {
        if (
            value !is JsonObject ||
                value["type"] == null ||
                (old is JsonObject && old["type"] != null)
        )
            return value
        return JsonObject(value - "type")
    }

    private fun join(at: String, field: String) = if (at.isEmpty()) field else "$at.$field"

    private fun describe(node: JsonElement) =
        when (node) {
            JsonNull -> "null (set the whole object instead)"
            is JsonArray -> "a list"
            else -> "the value $node"
        }

    private val budget = Regex("""(\d[\d_]*)(?:\.(k|M|B))?\.(steps|tokens)""")

    internal fun parseValue(text: String): JsonElement {
        budget.matchEntire(text)?.let { m ->
            val scale =
                when (m.groupValues[2]) {
                    "k" -> 1_000L
                    "M" -> 1_000_000L
                    "B" -> 1_000_000_000L
                    else -> 1L
                }
            val count =
                m.groupValues[1].replace("_", "").toLongOrNull()?.let {
                    Math.multiplyExact(it, scale)
                } ?: throw SpecOverrideException("$text: the count is too large")
            return buildJsonObject {
                put("type", m.groupValues[3])
                put(m.groupValues[3], count)
            }
        }
        val parsed =
            try {
                Json.parseToJsonElement(text)
            } catch (e: IllegalArgumentException) {
                return JsonPrimitive(text)
            }
        // The parser reads a bare word (Compiled) as an unquoted literal; one that is not a number,
        // a boolean or null is a string.
        val bareWord =
            parsed is JsonPrimitive &&
                !parsed.isString &&
                parsed !is JsonNull &&
                parsed.content != "true" &&
                parsed.content != "false" &&
                parsed.content.toDoubleOrNull() == null
        return if (bareWord) JsonPrimitive(text) else parsed
    }
}
