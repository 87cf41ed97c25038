package looplab.pipelines.run

import java.io.ByteArrayOutputStream
import java.io.DataOutputStream
import java.nio.BufferUnderflowException
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path
import looplab.dsl.UserFacingError

/**
 * Named float arrays in one file: `LOOPLAB-TENSORS 1`, a count, then per entry its name, length and
 * little-endian float32 values. Small and dependency-free; checkpoints are written with it.
 */
public object TensorFile {
    private const val MAGIC = "LOOPLAB-TENSORS"
    private const val VERSION = 1

    /** The file's bytes. */
    public fun encode(tensors: Map<String, FloatArray>): ByteArray {
        val bytes = ByteArrayOutputStream(16 + tensors.values.sumOf { it.size * 4 + 64 })
        DataOutputStream(bytes).use { out ->
            out.writeUTF(MAGIC)
            out.writeInt(VERSION)
            out.writeInt(tensors.size)
            for ((name, values) in tensors) {
                out.writeUTF(name)
                out.writeInt(values.size)
                val buffer = ByteBuffer.allocate(values.size * 4).order(ByteOrder.LITTLE_ENDIAN)
                buffer.asFloatBuffer().put(values)
                out.write(buffer.array())
            }
        }
        return bytes.toByteArray()
    }

    public fun write(path: Path, tensors: Map<String, FloatArray>) {
        Files.write(path, encode(tensors))
    }

    /** Reads a file written by [write]; a damaged or foreign file gives a message naming it. */
    public fun read(path: Path): Map<String, FloatArray> =
        if (!Files.isRegularFile(path)) throw CheckpointException("$path is missing")
        else decode(Files.readAllBytes(path), path.toString())

    /**
     * Parses [bytes], checking every length against what is left, so a damaged length field is
     * reported as such instead of allocating a negative or enormous array.
     */
    public fun decode(bytes: ByteArray, what: String): Map<String, FloatArray> {
        val buffer = ByteBuffer.wrap(bytes)
        fun fail(reason: String): Nothing = throw CheckpointException("$what: $reason")
        fun utf(): String {
            if (buffer.remaining() < 2) fail("is truncated")
            val length = buffer.short.toInt() and 0xffff
            if (length > buffer.remaining())
                fail("is truncated or damaged (a name runs past the end of the file)")
            // writeUTF's modified UTF-8 is plain UTF-8 for the names looplab writes.
            return String(ByteArray(length).also { buffer.get(it) }, Charsets.UTF_8)
        }
        try {
            if (utf() != MAGIC) fail("is not a looplab tensor file")
            val version = buffer.int
            if (version != VERSION)
                fail("tensor file version $version, this looplab reads $VERSION")
            val count = buffer.int
            if (count < 0 || count > buffer.remaining())
                fail("is damaged: it claims $count tensors")
            val result = LinkedHashMap<String, FloatArray>()
            repeat(count) {
                val name = utf()
                val size = buffer.int
                if (size < 0) fail("is damaged: tensor $name has length $size")
                if (size.toLong() * 4 > buffer.remaining())
                    fail(
                        "is truncated or damaged: tensor $name claims $size values, ${buffer.remaining() / 4} remain"
                    )
                val values = FloatArray(size)
                buffer.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values)
                buffer.position(buffer.position() + size * 4)
                if (name in result) fail("is damaged: tensor $name appears twice")
                result[name] = values
            }
            if (buffer.hasRemaining())
                fail("is damaged: ${buffer.remaining()} bytes follow the last tensor")
            return result
        } catch (e: BufferUnderflowException) {
            fail("is truncated")
        }
    }
}

/** A checkpoint that cannot be read or does not fit; the message says which and why. */
public class CheckpointException(message: String) : RuntimeException(message), UserFacingError
