package looplab.models.tensor

/**
 * The tensor operations looplab's models are written in. A backend implements them: eagerly on DJL
 * NDArrays, or by emitting a program to compile. Model code therefore never branches on tensor
 * values; everything it decides, it decides from shapes and configuration.
 *
 * Shapes follow PyTorch: `B` batch, `T` time, `H` heads, `D` head size, `V` vocabulary.
 * Element-wise ops broadcast.
 */
public interface Ops {
    // --- inputs -------------------------------------------------------------------------------

    /** Token ids as an integer tensor of shape [[batch], [length]]. */
    public fun tokens(ids: IntArray, batch: Int, length: Int): Tensor

    /** A float constant of [shape] (e.g. a loss mask). */
    public fun floats(values: FloatArray, shape: List<Int>): Tensor

    /**
     * A float tensor of [shape] filled with zeros. Unlike [floats] it needs no host data, so a
     * compiled backend makes it inside the program instead of taking a new input every pass.
     */
    public fun zeros(shape: List<Int>): Tensor

    /** A float tensor of [shape] with every entry [value] (rounded to fp32), made like [zeros]. */
    public fun full(value: Double, shape: List<Int>): Tensor

    // --- element-wise -------------------------------------------------------------------------

    public fun add(a: Tensor, b: Tensor): Tensor

    public fun sub(a: Tensor, b: Tensor): Tensor

    public fun mul(a: Tensor, b: Tensor): Tensor

    public fun scale(x: Tensor, factor: Double): Tensor

    public fun sigmoid(x: Tensor): Tensor

    /** x · sigmoid(x), the gate of SwiGLU. */
    public fun silu(x: Tensor): Tensor

    // --- shape --------------------------------------------------------------------------------

    public fun reshape(x: Tensor, shape: List<Int>): Tensor

    /** Swaps two axes. */
    public fun transpose(x: Tensor, axis1: Int, axis2: Int): Tensor

    /** Elements [start, end) along [axis]. */
    public fun slice(x: Tensor, axis: Int, start: Int, end: Int): Tensor

    public fun concat(xs: List<Tensor>, axis: Int): Tensor

    // --- linear algebra and reductions --------------------------------------------------------

    /** Batched matrix product over the last two axes. */
    public fun matmul(a: Tensor, b: Tensor): Tensor

    /** `x @ w` with `w` of shape [in, out]: looplab stores weights input-major, as JAX does. */
    public fun linear(x: Tensor, w: Tensor): Tensor

    public fun mean(x: Tensor, axis: Int, keepDim: Boolean = false): Tensor

    public fun sumAll(x: Tensor): Tensor

    public fun softmax(x: Tensor, axis: Int): Tensor

    /**
     * Index of the largest entry along [axis] (that axis removed), as floats (exact below 2^24):
     * the first one where several are equal, as a host-side scan picks.
     */
    public fun argmax(x: Tensor, axis: Int): Tensor

    /**
     * A token id per row drawn from softmax([logits] / [temperature]) over the last axis ([B, 1, V]
     * gives [B, 1]), as floats: with one uniform u in [0, 1) per row ([uniforms], shape of the
     * result), the first id whose running sum of weights `exp((x − max) / temperature)` exceeds u ×
     * their total (inverse CDF in id order, as `Sampler` draws on the host). In float64, so that
     * the same u picks the host's token: decoding then returns B ids, not B × V logits.
     */
    public fun sampleInOrder(logits: Tensor, uniforms: Tensor, temperature: Double): Tensor

    /**
     * A slot cache [cache] ([B, H, C, D]) with [fresh] ([B, H, 1, D]) written at slot `slots[b]` of
     * each row b ([slots]: [B, 1] ids, as [tokens] makes them), every other slot unchanged. A
     * compiled backend writes in place, so that a decoding step moves one slot, not the cache:
     * [cache] is consumed and must not be read again.
     */
    public fun writeSlot(cache: Tensor, fresh: Tensor, slots: Tensor): Tensor

    // --- transformer building blocks ----------------------------------------------------------

    /** Rows of [table] ([V, width]) for each id of [ids] ([B, T]): [B, T, width]. */
    public fun embedding(ids: Tensor, table: Tensor): Tensor

    /** `x / rms(x) * gain` over the last axis. */
    public fun rmsNorm(x: Tensor, gain: Tensor, eps: Double): Tensor

    /**
     * Rotary position embedding of [x] ([B, H, T, D]) for positions `offset until offset + T`,
     * rotating the two halves of the head (GPT-NeoX / LLaMA layout).
     */
    public fun rope(x: Tensor, base: Double, offset: Int = 0): Tensor

    /**
     * Softmax attention in which position t sees positions ≤ t only, and with a [window] only the
     * positions in `t − window + 1..t`; [q], [k], [v] are [B, H, T, D], scores are scaled by 1/√D.
     */
    public fun causalAttention(q: Tensor, k: Tensor, v: Tensor, window: Int? = null): Tensor

    /**
     * Rotary position embedding of [x] ([B, H, T, D]) at a position per row and time step:
     * [positions] holds `B·T` positions, row-major. Decoding uses it, where each row of a batch is
     * at its own position; the angles are computed as [rope]'s (float64, then fp32).
     */
    public fun ropeAt(x: Tensor, base: Double, positions: IntArray): Tensor

    /**
     * Softmax attention of [q] ([B, H, Tq, D]) over [k] and [v] ([B, H, Tk, D]) with an additive
     * [mask] broadcastable to [B, H, Tq, Tk] (0 where a query may look, -∞ where not); scores are
     * scaled by 1/√D. Cached decoding attends over a fixed-capacity cache with it.
     */
    public fun maskedAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor): Tensor

    /**
     * [causalAttention] within documents, for rows that pack several: position t sees the positions
     * ≤ t of its own document only. [segments] ([B, T] integer ids, as [tokens] makes them) numbers
     * the document of every position.
     */
    public fun documentCausalAttention(q: Tensor, k: Tensor, v: Tensor, segments: Tensor): Tensor

    /**
     * Mean cross-entropy of [logits] ([B, T, V]) against [targets] ([B, T] ids) over the positions
     * where [mask] ([B, T]) is 1; padding has mask 0 and so never moves the loss.
     */
    public fun crossEntropy(logits: Tensor, targets: Tensor, mask: Tensor): Tensor

    /**
     * [crossEntropy] of `linear(x, weight)`: [x] is [B, T, in], [weight] [in, V] as [linear] takes
     * it. One op, so that a backend may compute head and loss together: the composition keeps the
     * [B, T, V] log-probabilities in fp32 for backward, the largest tensor of a training step and
     * about a tenth of its time. This default is that composition.
     */
    public fun linearCrossEntropy(
        x: Tensor,
        weight: Tensor,
        targets: Tensor,
        mask: Tensor,
    ): Tensor = crossEntropy(linear(x, weight), targets, mask)

    /**
     * log softmax([logits])[target] at every position: [B, T] from [B, T, V] logits and [B, T] ids.
     */
    public fun tokenLogProbs(logits: Tensor, targets: Tensor): Tensor

    // --- added for the model zoo (each maps to plain ATen ops) ---------------------------------

    /** Element-wise quotient (aten::div). */
    public fun divide(a: Tensor, b: Tensor): Tensor

    /** eˣ (aten::exp). */
    public fun exp(x: Tensor): Tensor

    /** √x (aten::sqrt). */
    public fun sqrt(x: Tensor): Tensor

    /** log(1 + eˣ), the positive step size of Mamba-2 (aten::softplus). */
    public fun softplus(x: Tensor): Tensor

    /** Sum over [axis] (aten::sum.dim_IntList). */
    public fun sum(x: Tensor, axis: Int, keepDim: Boolean = false): Tensor

    /** Inclusive running sum along [axis] (aten::cumsum). */
    public fun cumsum(x: Tensor, axis: Int): Tensor

    /** log Σ exp(x) over [axis], computed stably (aten::logsumexp). */
    public fun logSumExp(x: Tensor, axis: Int, keepDim: Boolean = false): Tensor

    /** [x] repeated along its size-1 axes to [shape], like PyTorch's `expand` (aten::expand). */
    public fun broadcastTo(x: Tensor, shape: List<Int>): Tensor

    /**
     * Depthwise convolution over time of [x] ([B, T, C]) with [weight] ([C, K]): output t is `Σ_k
     * weight[c, k] · x[t - (K - 1 - k)·dilation]`, zero before the sequence starts. Padding is on
     * the left only, so position t never sees t + 1 (aten::constant_pad_nd, then aten::conv1d with
     * groups = C on the [B, C, T] transpose).
     */
    public fun causalConv1d(x: Tensor, weight: Tensor, dilation: Int = 1): Tensor

    /**
     * 1 at the [k] largest entries along the last axis, 0 elsewhere: exactly k ones per row (which
     * of tied entries wins is up to the backend). Not differentiable: a routing decision
     * (aten::topk, aten::one_hot, aten::sum).
     */
    public fun topkMask(x: Tensor, k: Int): Tensor

    /**
     * The smaller of a and b, element-wise (aten::minimum); the gradient goes to the smaller one.
     */
    public fun minimum(a: Tensor, b: Tensor): Tensor

    /** [x] limited to [[min], [max]] (aten::clamp); the gradient is 0 where a limit applies. */
    public fun clamp(x: Tensor, min: Double, max: Double): Tensor

    /** [x]'s value with no gradient path back through it. */
    public fun detach(x: Tensor): Tensor

    /** 1 where a ≥ b (broadcasting), else 0, as floats; not differentiable (aten::ge, aten::to). */
    public fun greaterEqual(a: Tensor, b: Tensor): Tensor

    /**
     * Runs [block] with matrix products in fp32 even under a mixed-precision policy, as
     * `torch.autocast(enabled=False)` does: for the few computations whose decisions must not
     * depend on rounding (a router's top-k). Backends without mixed precision just run it.
     */
    public fun <T> fullPrecision(block: () -> T): T = block()

    // --- operators, so model code reads like the maths -----------------------------------------

    public operator fun Tensor.plus(other: Tensor): Tensor = add(this, other)

    public operator fun Tensor.minus(other: Tensor): Tensor = sub(this, other)

    public operator fun Tensor.times(other: Tensor): Tensor = mul(this, other)

    public operator fun Tensor.times(factor: Double): Tensor = scale(this, factor)

    public operator fun Tensor.div(other: Tensor): Tensor = divide(this, other)
}
