package looplab.models.eager

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import kotlin.math.cos
import kotlin.math.pow
import kotlin.math.sin
import looplab.models.tensor.mayAttend

/**
 * Position tables that every step needs again (causal masks, RoPE angles), built once per shape and
 * kept on the device. Bounded, because generation asks for one per sequence length.
 */
internal class ConstantCache(private val manager: NDManager, private val capacity: Int = 64) :
    AutoCloseable {
    private val cache =
        object : LinkedHashMap<String, NDArray>(16, 0.75f, true) {
            override fun removeEldestEntry(
                eldest: MutableMap.MutableEntry<String, NDArray>
            ): Boolean = (size > capacity).also { if (it) eldest.value.close() }
        }

    /**
     * [length, length] additive mask: 0 where a query may look (key ≤ query, within [window]), -∞
     * elsewhere.
     */
    fun causalMask(length: Int, window: Int? = null): NDArray =
        cache.getOrPut("mask:$length:$window") {
            val values =
                FloatArray(length * length) { i ->
                    val (query, key) = i / length to i % length
                    if (!mayAttend(query, key, window)) Float.NEGATIVE_INFINITY else 0f
                }
            manager.create(values, Shape(length.toLong(), length.toLong()))
        }

    /** cos and sin tables [length, headSize] for positions offset until offset + length. */
    fun rope(length: Int, headSize: Int, base: Double, offset: Int): Pair<NDArray, NDArray> {
        val key = "rope:$length:$headSize:$base:$offset"
        val cosTable =
            cache.getOrPut("$key:cos") { ropeTable(length, headSize, base, offset, ::cos) }
        val sinTable =
            cache.getOrPut("$key:sin") { ropeTable(length, headSize, base, offset, ::sin) }
        return cosTable to sinTable
    }

    private fun ropeTable(
        length: Int,
        headSize: Int,
        base: Double,
        offset: Int,
        f: (Double) -> Double,
    ): NDArray {
        val half = headSize / 2
        val values =
            FloatArray(length * headSize) { i ->
                val position = offset + i / headSize
                val frequency = 1.0 / base.pow((i % headSize % half).toDouble() * 2 / headSize)
                f(position * frequency).toFloat()
            }
        return manager.create(values, Shape(length.toLong(), headSize.toLong()))
    }

    override fun close() {
        cache.values.forEach { it.close() }
        cache.clear()
        manager.close()
    }
}
