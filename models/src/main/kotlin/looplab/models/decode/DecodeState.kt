package looplab.models.decode

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDArrays
import ai.djl.ndarray.NDList
import ai.djl.ndarray.NDManager
import java.util.Collections
import java.util.IdentityHashMap

/**
 * The decoding state of a batch, on the device between calls: one array per named entry (see
 * [DecodeCache]), owned by this object's manager. Each step replaces the arrays; [close] frees
 * them.
 */
public class DecodeState
internal constructor(
    public val names: List<String>,
    arrays: List<NDArray>,
    /** Stream positions each slot cache holds. */
    public val capacity: Int,
    /** Tokens the generation may reach (fixes the RoPE base). */
    public val horizon: Int,
    internal val manager: NDManager,
) : AutoCloseable {
    public var arrays: List<NDArray> = arrays
        private set

    /** Replaces the arrays by [next], freeing those not carried over. */
    internal fun replace(next: List<NDArray>) {
        // By identity: DJL's NDArray.equals compares contents (and its hashCode is 0), so a hash
        // set of arrays would compare every pair of tensors element by element on each step.
        val kept = Collections.newSetFromMap(IdentityHashMap<NDArray, Boolean>())
        kept.addAll(next)
        arrays.filter { it !in kept }.forEach { it.close() }
        arrays = next
    }

    /** Device bytes the state holds. */
    public val bytes: Long
        get() = arrays.sumOf { it.size() * 4 }

    override fun close() {
        manager.close()
    }

    internal companion object {
        /**
         * One state for rows taken from [parts] ([order] gives, for each row of the result, its
         * part and its row there); the parts are closed. Parts hold equal names and shapes but for
         * the batch.
         */
        fun merge(
            parts: List<DecodeState>,
            order: List<Pair<Int, Int>>,
            manager: NDManager,
        ): DecodeState {
            val first = parts.first()
            if (
                parts.size == 1 && order.withIndex().all { (i, o) -> o.first == 0 && o.second == i }
            )
                return first
            val merged =
                first.names.indices.map { k ->
                    val rows =
                        NDList(
                            *order
                                .map { (part, row) -> parts[part].arrays[k].get("$row:${row + 1}") }
                                .toTypedArray()
                        )
                    NDArrays.concat(rows, 0).also { it.attach(manager) }
                }
            parts.forEach { it.close() }
            return DecodeState(first.names, merged, first.capacity, first.horizon, manager)
        }
    }
}
