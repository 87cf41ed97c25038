package looplab.pipelines.run

import looplab.dsl.UserFacingError
import java.io.DataInputStream
import java.io.DataOutputStream
import java.io.EOFException
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path

/**
 * Named float arrays in one file: `LOOPLAB-TENSORS 1`, a count, then per entry its name, length and
 * little-endian float32 values. Small and dependency-free; checkpoints are written with it.
 */
public object TensorFile {
    private const val MAGIC = "LOOPLAB-TENSORS"
    private const val VERSION = 1

    public fun write(path: Path, tensors: Map<String, FloatArray>) {
        DataOutputStream(Files.newOutputStream(path).buffered(1 shl 20)).use { out ->
            out.writeUTF(MAGIC)
            out.writeInt(VERSION)
            out.writeInt(tensors.size)
            for ((name, values) in tensors) {
                out.writeUTF(name)
                out.writeInt(values.size)
                val bytes = ByteBuffer.allocate(values.size * 4).order(ByteOrder.LITTLE_ENDIAN)
                bytes.asFloatBuffer().put(values)
                out.write(bytes.array())
            }
        }
    }

    /** Reads a file written by [write]; a damaged or foreign file gives a message naming it. */
    public fun read(path: Path): Map<String, FloatArray> = try {
        DataInputStream(Files.newInputStream(path).buffered(1 shl 20)).use { input ->
            require(input.readUTF() == MAGIC) { "not a looplab tensor file" }
            val version = input.readInt()
            require(version == VERSION) { "tensor file version $version, this looplab reads $VERSION" }
            val count = input.readInt()
            (0 until count).associate {
                val name = input.readUTF()
                val size = input.readInt()
                require(size >= 0) { "negative length for $name" }
                val bytes = ByteArray(size * 4).also { input.readFully(it) }
                val values = FloatArray(size)
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values)
                name to values
            }
        }
    } catch (e: EOFException) {
        throw CheckpointException("$path is truncated")
    } catch (e: IllegalArgumentException) {
        throw CheckpointException("$path: ${e.message}")
    } catch (e: java.io.UTFDataFormatException) {
        throw CheckpointException("$path is not a looplab tensor file")
    }
}

/** A checkpoint that cannot be read or does not fit; the message says which and why. */
public class CheckpointException(message: String) : RuntimeException(message), UserFacingError
