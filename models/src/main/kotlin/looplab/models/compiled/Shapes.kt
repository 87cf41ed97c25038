package looplab.models.compiled

/** Shape inference for traced ops, following PyTorch's rules; a mismatch fails while tracing. */
internal object Shapes {
    fun broadcast(a: List<Int>, b: List<Int>): List<Int> {
        val rank = maxOf(a.size, b.size)
        return List(rank) { i ->
            val x = a.getOrElse(a.size - rank + i) { 1 }
            val y = b.getOrElse(b.size - rank + i) { 1 }
            require(x == y || x == 1 || y == 1) { "shapes $a and $b do not broadcast" }
            maxOf(x, y)
        }
    }

    fun reshape(from: List<Int>, to: List<Int>): List<Int> {
        val total = from.fold(1L) { acc, d -> acc * d }
        val known = to.filter { it != -1 }.fold(1L) { acc, d -> acc * d }
        val resolved = to.map { if (it == -1) (total / known).toInt() else it }
        require(resolved.fold(1L) { acc, d -> acc * d } == total) { "cannot reshape $from to $to" }
        return resolved
    }

    fun transpose(shape: List<Int>, a: Int, b: Int): List<Int> {
        val i = axis(shape, a)
        val j = axis(shape, b)
        return shape.toMutableList().also {
            it[i] = shape[j]
            it[j] = shape[i]
        }
    }

    fun slice(shape: List<Int>, axis: Int, start: Int, end: Int): List<Int> {
        val i = axis(shape, axis)
        require(start in 0..end && end <= shape[i]) {
            "slice $start until $end out of range for axis $axis of $shape"
        }
        return shape.toMutableList().also { it[i] = end - start }
    }

    fun concat(shapes: List<List<Int>>, axis: Int): List<Int> {
        val i = axis(shapes.first(), axis)
        return shapes.first().toMutableList().also { it[i] = shapes.sumOf { s -> s[i] } }
    }

    fun matmul(a: List<Int>, b: List<Int>): List<Int> {
        require(a.last() == b[b.size - 2]) { "matmul of $a and $b: inner sizes differ" }
        val batch = broadcast(a.dropLast(2), b.dropLast(2))
        return batch + a[a.size - 2] + b.last()
    }

    fun reduce(shape: List<Int>, axis: Int, keepDim: Boolean): List<Int> {
        val i = axis(shape, axis)
        return if (keepDim) shape.toMutableList().also { it[i] = 1 }
        else shape.filterIndexed { j, _ -> j != i }
    }

    fun axis(shape: List<Int>, axis: Int): Int =
        (if (axis < 0) shape.size + axis else axis).also {
            require(it in shape.indices) { "axis $axis out of range for $shape" }
        }
}
