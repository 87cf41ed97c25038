package looplab.pipelines.export

import java.io.DataOutputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path

/** Writes NumPy `.npy` files (version 1.0, little-endian, C order): what the Python checks read. */
public object Npy {
    public fun writeFloats(path: Path, values: FloatArray, shape: List<Int>): Unit =
        write(
            path,
            "<f4",
            shape,
            ByteBuffer.allocate(values.size * 4)
                .order(ByteOrder.LITTLE_ENDIAN)
                .also { b -> values.forEach { b.putFloat(it) } }
                .array(),
        )

    public fun writeInts(path: Path, values: IntArray, shape: List<Int>): Unit =
        write(
            path,
            "<i8",
            shape,
            ByteBuffer.allocate(values.size * 8)
                .order(ByteOrder.LITTLE_ENDIAN)
                .also { b -> values.forEach { b.putLong(it.toLong()) } }
                .array(),
        )

    private fun write(path: Path, dtype: String, shape: List<Int>, data: ByteArray) {
        val dims = if (shape.size == 1) "(${shape[0]},)" else shape.joinToString(", ", "(", ")")
        var header = "{'descr': '$dtype', 'fortran_order': False, 'shape': $dims, }"
        // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64
        // bytes.
        val total = 10 + header.length + 1
        header += " ".repeat((64 - total % 64) % 64) + "\n"
        DataOutputStream(Files.newOutputStream(path)).use { out ->
            out.write(byteArrayOf(0x93.toByte()) + "NUMPY".toByteArray() + byteArrayOf(1, 0))
            out.write(
                byteArrayOf((header.length and 0xFF).toByte(), (header.length shr 8).toByte())
            )
            out.write(header.toByteArray(Charsets.US_ASCII))
            out.write(data)
        }
    }
}
