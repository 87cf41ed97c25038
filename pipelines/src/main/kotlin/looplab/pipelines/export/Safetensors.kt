package looplab.pipelines.export

import ai.djl.ndarray.NDList
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import java.nio.file.Files
import java.nio.file.Path

/**
 * Reads and writes `.safetensors` files through DJL (0.35.1 encodes and decodes the format itself:
 * an 8-byte header length, a JSON header of names, dtypes, shapes and byte offsets, then the raw
 * little-endian data). Tensors are fp32, by name.
 */
public object Safetensors {
    /** Writes [tensors] (name → values and shape) to [path]. */
    public fun write(path: Path, tensors: Map<String, Pair<FloatArray, List<Int>>>) {
        NDManager.newBaseManager(ai.djl.Device.cpu()).use { manager ->
            val list = NDList()
            for ((name, entry) in tensors) {
                val (values, shape) = entry
                list.add(
                    manager.create(values, Shape(*shape.map { it.toLong() }.toLongArray())).also {
                        it.name = name
                    }
                )
            }
            Files.newOutputStream(path).use { list.encode(it, NDList.Encoding.SAFETENSORS) }
        }
    }

    /** Every tensor of [path] as fp32 values with its shape. */
    public fun read(path: Path): Map<String, Pair<FloatArray, List<Int>>> =
        NDManager.newBaseManager(ai.djl.Device.cpu()).use { manager ->
            val list = Files.newInputStream(path).use { NDList.decode(manager, it) }
            list.associate { array ->
                val name =
                    array.name
                        ?: throw IllegalArgumentException("$path holds a tensor without a name")
                val floats = array.toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                name to (floats.toFloatArray() to array.shape.shape.map { it.toInt() })
            }
        }
}
