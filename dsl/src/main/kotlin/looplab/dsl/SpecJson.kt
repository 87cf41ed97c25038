package looplab.dsl

import kotlinx.serialization.json.Json

/** Thrown when JSON cannot be read as a spec; the message names what is wrong and where. */
public class SpecJsonException(message: String) : IllegalArgumentException(message), UserFacingError

/** Reads and writes specs as JSON. Unknown keys are errors: a typo must never become a default. */
public object SpecJson {
    public val json: Json = Json {
        prettyPrint = true
        encodeDefaults = true
        ignoreUnknownKeys = false
        classDiscriminator = "type"
    }

    public fun encode(spec: ExperimentSpec): String =
        json.encodeToString(ExperimentSpec.serializer(), spec)

    /** Parses [text]; [source] (a file name, say) prefixes the error message. */
    public fun decode(text: String, source: String = "JSON"): ExperimentSpec =
        try {
            json.decodeFromString(ExperimentSpec.serializer(), text)
        } catch (e: IllegalArgumentException) { // kotlinx.serialization's SerializationException
            // included
            throw SpecJsonException(
                "$source is not a valid experiment: ${e.message?.lineSequence()?.first()}"
            )
        }
}
