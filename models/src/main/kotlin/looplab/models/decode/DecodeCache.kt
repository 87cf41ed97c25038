package looplab.models.decode

import looplab.models.tensor.Tensor

/**
 * The decoding state of one forward call, by name: what every part that looks back in time (an
 * attention's keys and values per loop and block, a convolution's window, a Mamba-2 state, a MoE's
 * slot counts) keeps between calls. A prefill writes every entry from the prompt; a step reads them
 * and writes them back updated for one more token. Names are fixed by the model and the order of
 * writing is the same on every call, so a compiled backend sees one program per shape.
 *
 * Slots: entries indexed by position ([B, H, C, D] caches) hold [capacity] positions of the stream
 * (memory tokens first, then tokens); a step writes the new token's slot.
 */
public class DecodeCache
private constructor(
    /** Positions of the stream a cache holds, memory tokens included. */
    public val capacity: Int,
    /**
     * Step: the token index (0-based, memory not counted) of each row's new token; null for a
     * prefill.
     */
    public val positions: IntArray?,
    /**
     * Tokens the whole generation may reach (the RoPE base does not depend on it: NTK scaling is
     * fixed by the model).
     */
    public val horizon: Int,
    private val input: Map<String, Tensor>,
) {
    private val written = LinkedHashMap<String, Tensor>()

    public val isPrefill: Boolean
        get() = positions == null

    /** The state written by this call, in writing order. */
    public val names: List<String>
        get() = written.keys.toList()

    public val outputs: List<Tensor>
        get() = written.values.toList()

    /** The entry [name] as the previous call left it (steps only). */
    public fun read(name: String): Tensor =
        input[name] ?: error("decoding state has no entry '$name' (it has ${input.keys})")

    /** Sets the entry [name] for the next call. */
    public fun write(name: String, value: Tensor) {
        require(written.put(name, value) == null) {
            "decoding state entry '$name' written twice in one call"
        }
    }

    public companion object {
        /** A prompt's pass: every entry is written, sized for [capacity] stream positions. */
        @JvmStatic
        public fun prefill(capacity: Int, horizon: Int): DecodeCache =
            DecodeCache(capacity, null, horizon, emptyMap())

        /**
         * One token per row at [positions], reading the state [names] → [values] of the previous
         * call.
         */
        @JvmStatic
        public fun step(
            capacity: Int,
            horizon: Int,
            positions: IntArray,
            names: List<String>,
            values: List<Tensor>,
        ): DecodeCache {
            require(names.size == values.size) {
                "${names.size} names for ${values.size} state tensors"
            }
            return DecodeCache(capacity, positions, horizon, names.zip(values).toMap())
        }
    }
}
