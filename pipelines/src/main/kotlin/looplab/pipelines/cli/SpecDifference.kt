package looplab.pipelines.cli

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import looplab.dsl.ExperimentSpec
import looplab.dsl.SpecJson

/**
 * The first place where two specs differ, as a JSON path (`pipeline.stages[0].budget`), or null
 * when they are equal; it lets an error say *what* differs instead of only that something does.
 */
internal fun firstDifference(a: ExperimentSpec, b: ExperimentSpec): String? =
    firstDifference(
        Json.parseToJsonElement(SpecJson.encode(a)),
        Json.parseToJsonElement(SpecJson.encode(b)),
        "",
    )

private fun firstDifference(a: JsonElement, b: JsonElement, path: String): String? =
    when {
        a is JsonObject && b is JsonObject ->
            (a.keys + b.keys).firstNotNullOfOrNull { key ->
                val child = if (path.isEmpty()) key else "$path.$key"
                val left = a[key]
                val right = b[key]
                if (left == null || right == null) child.takeIf { left != right }
                else firstDifference(left, right, child)
            }
        a is JsonArray && b is JsonArray ->
            (0 until maxOf(a.size, b.size)).firstNotNullOfOrNull { i ->
                if (i >= a.size || i >= b.size) "$path[$i]"
                else firstDifference(a[i], b[i], "$path[$i]")
            }
        else -> path.ifEmpty { "(the whole spec)" }.takeIf { a != b }
    }
