package looplab.curriculum.data

/**
 * Derives independent random seeds from several parts (experiment seed, task, sample index...), so
 * that any sample can be regenerated from its coordinates alone, on any thread, in any order.
 */
public object Seeds {
    public fun mix(vararg parts: Long): Long {
        var h = 0x9E3779B97F4A7C15uL.toLong()
        for (p in parts) h = splitMix(h xor p)
        return h
    }

    /**
     * A stable number for a name (String.hashCode is specified by the JLS, so it is stable too).
     */
    public fun of(name: String): Long = splitMix(name.hashCode().toLong())

    private fun splitMix(x: Long): Long {
        var z = x + 0x9E3779B97F4A7C15uL.toLong()
        z = (z xor (z ushr 30)) * 0xBF58476D1CE4E5B9uL.toLong()
        z = (z xor (z ushr 27)) * 0x94D049BB133111EBuL.toLong()
        return z xor (z ushr 31)
    }
}
