package looplab.dsl

import kotlinx.serialization.KSerializer
import kotlinx.serialization.Serializable
import kotlinx.serialization.descriptors.PrimitiveKind
import kotlinx.serialization.descriptors.PrimitiveSerialDescriptor
import kotlinx.serialization.descriptors.SerialDescriptor
import kotlinx.serialization.encoding.Decoder
import kotlinx.serialization.encoding.Encoder

/**
 * Names an algorithmic task. The built-in ones are listed in [Task]; a task of your own gets an id
 * of its own and is registered with the curriculum's task registry, which resolves ids to code.
 */
@Serializable(with = TaskIdSerializer::class)
public data class TaskId(public val name: String) {
    override fun toString(): String = name
}

/** Writes a [TaskId] as its bare name, so JSON reads `"task": "parity"`. */
internal object TaskIdSerializer : KSerializer<TaskId> {
    override val descriptor: SerialDescriptor =
        PrimitiveSerialDescriptor("looplab.TaskId", PrimitiveKind.STRING)

    override fun serialize(encoder: Encoder, value: TaskId): Unit = encoder.encodeString(value.name)

    override fun deserialize(decoder: Decoder): TaskId = TaskId(decoder.decodeString())
}

/** The built-in algorithmic tasks (see the curriculum module for their formats and grids). */
public object Task {
    /** Sum of several terms modulo 13. */
    public val ModAdd: TaskId = TaskId("mod_add")
    /** Whether a bit string has an odd number of ones (trained on 8 bits, tested up to 64). */
    public val Parity: TaskId = TaskId("parity")
    /** Decimal addition (trained on 4 digits, tested up to 8). */
    public val Addition: TaskId = TaskId("addition")
    /** Decimal multiplication. */
    public val Multiplication: TaskId = TaskId("multiplication")
    /** Repeat a string. */
    public val Copy: TaskId = TaskId("copy")
    /** A string backwards. */
    public val Reverse: TaskId = TaskId("reverse")
    /** Close a prefix of balanced brackets. */
    public val Dyck: TaskId = TaskId("dyck")
    /** Left-to-right arithmetic over several steps, modulo 10. */
    public val Chain: TaskId = TaskId("chain")
    /** Compare two numbers of equal length. */
    public val Compare: TaskId = TaskId("compare")
    /** A number plus one. */
    public val Successor: TaskId = TaskId("successor")

    /** Every built-in task, in the seed's order. */
    public val all: List<TaskId> =
        listOf(
            ModAdd,
            Parity,
            Addition,
            Multiplication,
            Copy,
            Reverse,
            Dyck,
            Chain,
            Compare,
            Successor,
        )
}

/** An inclusive range of task lengths (bits, digits, symbols: each task says what length means). */
@Serializable
public data class LengthRange(val min: Int, val max: Int) {
    public operator fun contains(length: Int): Boolean = length in min..max

    override fun toString(): String = "$min..$max"
}

/** Converts a Kotlin range, so the DSL can say `train = 1..8`. */
public fun IntRange.toLengths(): LengthRange = LengthRange(first, last)
