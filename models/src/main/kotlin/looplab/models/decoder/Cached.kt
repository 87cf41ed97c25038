package looplab.models.decoder

import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor
import looplab.models.tensor.mayAttend

/**
 * What a decoding step computes on the host and passes in: the stream slot of each row's new token
 * (memory tokens first, so slot = memory + token index), as ids (to write it there) and the
 * additive mask of the slots a row may read (≤ its own). Made lazily: a model without attention
 * needs none of them as inputs.
 */
internal class StepSlots(
    private val ops: Ops,
    val slots: IntArray,
    private val capacity: Int,
    /** The model's sliding attention window, if it has one. */
    private val window: Int? = null,
) {
    private val batch = slots.size

    init {
        slots.forEach {
            require(it in 0 until capacity) {
                "decoding position $it is outside the cache of $capacity positions"
            }
        }
    }

    /** [B, 1]: each row's new slot, where [Ops.writeSlot] writes it. */
    val index: Tensor by lazy { ops.tokens(slots, batch, 1) }

    /** [B, 1, 1, C]: 0 at the slots the row's new token may read (≤ its own, within the window). */
    val mask: Tensor by lazy {
        ops.floats(
            FloatArray(batch * capacity) {
                if (mayAttend(slots[it / capacity], it % capacity, window)) 0f
                else Float.NEGATIVE_INFINITY
            },
            listOf(batch, 1, 1, capacity),
        )
    }
}

/**
 * Keeps [fresh] ([B, H, T, D], one entry per position) in the slot cache [name] and returns what to
 * attend over: [fresh] itself without a cache or when prefilling (the prompt sees itself), the
 * whole cache with the new slot written after a step. A prefill pads the cache with zeros to its
 * capacity; slots not yet written are masked by [StepSlots.mask].
 */
internal fun Forward.remember(name: String, fresh: Tensor): Tensor =
    with(ops) {
        val cache = cache ?: return fresh
        val step = slots
        if (step == null) {
            val (batch, heads, time, size) = fresh.shape
            cache.write(
                name,
                if (time == cache.capacity) fresh
                else
                    concat(
                        listOf(fresh, zeros(listOf(batch, heads, cache.capacity - time, size))),
                        2,
                    ),
            )
            return fresh
        }
        val updated = writeSlot(cache.read(name), fresh, step.index)
        cache.write(name, updated)
        updated
    }

/**
 * The causal depthwise convolution of [x] ([B, T, C]) with [weight] ([C, K]) that continues across
 * decoding calls: the window of the last `(K - 1)·dilation` inputs is the state [name]. A step
 * convolves the window and the new input and keeps the window shifted by one.
 */
internal fun Forward.convolve(name: String, x: Tensor, weight: Tensor, dilation: Int): Tensor =
    with(ops) {
        val cache = cache ?: return causalConv1d(x, weight, dilation)
        val reach = (weight.shape[1] - 1) * dilation
        if (reach == 0) return causalConv1d(x, weight, dilation)
        val (batch, time, channels) = x.shape
        if (slots == null) {
            cache.write(
                name,
                if (time >= reach) slice(x, 1, time - reach, time)
                else concat(listOf(zeros(listOf(batch, reach - time, channels)), x), 1),
            )
            return causalConv1d(x, weight, dilation)
        }
        val window = concat(listOf(cache.read(name), x), 1)
        cache.write(name, slice(window, 1, 1, reach + 1))
        slice(causalConv1d(window, weight, dilation), 1, reach, reach + 1)
    }
