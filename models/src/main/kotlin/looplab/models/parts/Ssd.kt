package looplab.models.parts

import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * The state-space dual (Mamba-2) in chunked matrix form: for every head, the recurrence `h_t =
 * exp(a_t)·h_{t-1} + x_t ⊗ b_t`, `y_t = h_t·c_t` (state [P, N]), computed without a loop over time.
 * The sequence is cut into chunks of [chunk] positions; within a chunk the output is a masked
 * matrix product (the "diagonal blocks"), and chunks exchange only their final states, passed on by
 * a small matrix of decays between chunk boundaries. Everything is causal by construction: every
 * decay matrix is lower-triangular.
 *
 * Shapes: [x] [B, T, H, P] (already scaled by the step size), [a] [B, T, H] (log-decays, ≤ 0), [b]
 * and [c] [B, T, N] (one group, shared by every head). Returns [B, T, H, P].
 */
internal fun Ops.ssd(x: Tensor, a: Tensor, b: Tensor, c: Tensor, chunk: Int): Tensor =
    ssdWithState(x, a, b, c, chunk).first

/**
 * [ssd]'s output and the state [B, H, P, N] after the last position (what a decoding step continues
 * from).
 */
internal fun Ops.ssdWithState(
    x: Tensor,
    a: Tensor,
    b: Tensor,
    c: Tensor,
    chunk: Int,
): Pair<Tensor, Tensor> {
    val (batch, length, heads, size) = x.shape
    val state = b.shape[2]
    val chunks = (length + chunk - 1) / chunk
    val padded = chunks * chunk
    // Padding at the end of the sequence cannot reach earlier positions; it is cut off at the end.
    fun padTime(t: Tensor): Tensor =
        if (padded == length) t
        else {
            val shape = t.shape.toMutableList().also { it[1] = padded - length }
            concat(listOf(t, zeros(shape)), 1)
        }
    // [B, K, Q, H, P] -> [B, H, K, Q, P]
    val xs =
        transpose(
            transpose(reshape(padTime(x), listOf(batch, chunks, chunk, heads, size)), 2, 3),
            1,
            2,
        )
    // [B, K, Q, H] -> [B, H, K, Q]
    val decays =
        transpose(transpose(reshape(padTime(a), listOf(batch, chunks, chunk, heads)), 2, 3), 1, 2)
    val bs = reshape(padTime(b), listOf(batch, 1, chunks, chunk, state))
    val cs = reshape(padTime(c), listOf(batch, 1, chunks, chunk, state))
    val cumulative = cumsum(decays, -1)

    // 1. Within chunks: y_l = Σ_{s ≤ l} exp(A_l - A_s)·(c_l·b_s)·x_s.
    val withinDecay =
        exp(
            reshape(cumulative, cumulative.shape + 1) -
                reshape(cumulative, cumulative.shape.dropLast(1) + listOf(1, chunk)) +
                lowerTriangle(chunk)
        )
    val diagonal = matmul(matmul(cs, transpose(bs, -1, -2)) * withinDecay, xs)

    // 2. The state each chunk leaves behind: Σ_s exp(A_last - A_s)·x_s ⊗ b_s, [B, H, K, P, N].
    val last = slice(cumulative, -1, chunk - 1, chunk)
    val toEnd = exp(last - cumulative)
    val chunkStates = matmul(transpose(xs * reshape(toEnd, toEnd.shape + 1), -1, -2), bs)

    // 3. The state entering each chunk: earlier chunks' states, decayed across the chunks between.
    val totals = cumsum(reshape(last, listOf(batch, heads, chunks)), -1)
    val boundaries = concat(listOf(zeros(listOf(batch, heads, 1)), totals), -1)
    val acrossDecay =
        exp(
            reshape(boundaries, listOf(batch, heads, chunks + 1, 1)) -
                reshape(boundaries, listOf(batch, heads, 1, chunks + 1)) + lowerTriangle(chunks + 1)
        )
    val withInitial =
        concat(
            listOf(
                zeros(listOf(batch, heads, 1, size * state)),
                reshape(chunkStates, listOf(batch, heads, chunks, size * state)),
            ),
            2,
        )
    val states = matmul(acrossDecay, withInitial)
    val entering = reshape(slice(states, 2, 0, chunks), listOf(batch, heads, chunks, size, state))
    // Padding at the end has a = 0 and x = 0: it leaves the state as the last real position did.
    val final = reshape(slice(states, 2, chunks, chunks + 1), listOf(batch, heads, size, state))

    // 4. What the entering state contributes at each position: exp(A_l)·c_l·h_in.
    val offDiagonal =
        matmul(cs, transpose(entering, -1, -2)) * reshape(exp(cumulative), cumulative.shape + 1)

    val y = transpose(transpose(diagonal + offDiagonal, 1, 2), 2, 3)
    val flat = reshape(y, listOf(batch, padded, heads, size))
    return (if (padded == length) flat else slice(flat, 1, 0, length)) to final
}

/**
 * [n, n] additive mask: 0 on and below the diagonal, a huge negative number above it, so that
 * `exp(segment sum + mask)` is exactly zero where a later position would feed an earlier one (and
 * its gradient too, unlike multiplying an overflowing exp by zero).
 */
private fun Ops.lowerTriangle(n: Int): Tensor =
    floats(FloatArray(n * n) { i -> if (i % n > i / n) -1e30f else 0f }, listOf(n, n))
