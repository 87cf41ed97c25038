package looplab.models.compiled

/**
 * The operands of [writeHeadLoss]: [hidden] [..., D] and [weight] [D, V] as the model holds them
 * (fp32, tracked by autograd), the same two detached and cast to the precision of the matrix
 * products ([hiddenLow], [weightLow]), [targets] [...] ids and [mask] [...] in fp32.
 */
internal class HeadLossOperands(
    val hidden: Sym,
    val weight: Sym,
    val hiddenLow: Sym,
    val weightLow: Sym,
    val targets: Sym,
    val mask: Sym,
)

/**
 * Writes the mean masked cross-entropy of `hidden·weight` as one op that makes its own gradient.
 *
 * Autograd through `log_softmax(hidden·weight)` keeps the [N, V] log-probabilities in fp32 until
 * backward: for a 125M model at 16 × 2048 tokens and V = 50,304 that is 6.6 GB, and the log-softmax
 * and its backward are about a tenth of the step. Here the logits, probabilities and their gradient
 * live only inside the forward pass, on detached operands, and the pass computes
 *
 *     loss = Σₙ wₙ·(logsumexp(zₙ) − zₙ[tₙ]),  z = h·W, w = mask / max(Σ mask, 1)
 *     dh = g·Wᵀ,  dW = hᵀ·g,  g = (softmax(z) − onehot(t))·w
 *
 * It returns `loss + (s − detach(s))` with `s = Σ h·detach(dh) + Σ W·detach(dW)`: the value is the
 * loss, and autograd hands dh to h and dW to W. Autograd keeps dh and dW only ([N, D] and [D, V],
 * in the products' precision).
 *
 * The products run in [HeadLossOperands.weightLow]'s precision, the softmax and logsumexp in fp32,
 * as `linear` then `crossEntropy` would. The gradient products take `(softmax(z) − onehot(t))·mask`
 * (entries in [-1, 1]) and the division by the count comes after, in fp32: 1/count-sized entries
 * would underflow in fp16 before its loss scale could reach them.
 *
 * The rows go through in chunks whose fp32 logits take at most [chunkBytes]: the [N, V] buffers
 * (logits in the products' precision, fp32 logits, their gradient) then never exist whole; dW adds
 * up over the chunks in fp32.
 *
 * With [differentiable] false (evaluation) only the loss is written.
 */
internal fun ScriptWriter.writeHeadLoss(
    o: HeadLossOperands,
    differentiable: Boolean,
    chunkBytes: Long = DEFAULT_HEAD_LOSS_CHUNK_BYTES,
): Sym {
    val width = o.weight.shape[0]
    val vocab = o.weight.shape[1]
    require(o.hidden.shape.last() == width) {
        "linearCrossEntropy: hidden ${o.hidden.shape} does not match weight ${o.weight.shape}"
    }
    val rows = o.hidden.shape.dropLast(1)
    require(o.targets.shape == rows && o.mask.shape == rows) {
        "linearCrossEntropy: targets ${o.targets.shape} and mask ${o.mask.shape} must be $rows"
    }
    val n = rows.fold(1, Int::times)
    val low = o.weightLow.dtype
    val h = let("torch.reshape(${o.hiddenLow.name}, [$n, $width])", listOf(n, width), low)
    val targets = let("torch.reshape(${o.targets.name}, [$n, 1])", listOf(n, 1), DType.I64)
    val mask = let("torch.reshape(${o.mask.name}, [$n, 1])", listOf(n, 1), DType.F32)
    val count = let("torch.clamp_min(torch.sum(${mask.name}), 1.0)", emptyList(), DType.F32)
    // Rows per chunk: the fp32 logits of one chunk take at most chunkBytes.
    val chunkRows = (chunkBytes / (4L * vocab)).coerceIn(1L, n.toLong()).toInt()
    val chunks = (0 until n step chunkRows).map { it to minOf(chunkRows, n - it) }
    val parts =
        chunks.map { (start, size) ->
            if (chunks.size == 1) HeadChunk(h, targets, mask)
            else
                HeadChunk(
                    narrow(h, start, size),
                    narrow(targets, start, size),
                    narrow(mask, start, size),
                )
        }
    val sums = mutableListOf<Sym>()
    val dHidden = mutableListOf<Sym>()
    var dWeight: Sym? = null
    for (part in parts) {
        val (lossSum, gradients) = writeChunk(part, o.weightLow, differentiable)
        sums += lossSum
        if (gradients == null) continue
        dHidden += gradients.first
        // One chunk keeps dW in the products' precision; several add up in fp32.
        val dW =
            if (parts.size == 1) gradients.second
            else
                let(
                    "torch.to(${gradients.second.name}, ${DType.F32.code})",
                    o.weight.shape,
                    DType.F32,
                )
        dWeight =
            dWeight?.let { let("torch.add(${it.name}, ${dW.name})", o.weight.shape, DType.F32) }
                ?: dW
    }
    val total =
        sums.reduce { a, b -> let("torch.add(${a.name}, ${b.name})", emptyList(), DType.F32) }
    val loss = let("torch.div(${total.name}, ${count.name})", emptyList(), DType.F32)
    if (!differentiable) return loss
    val dH =
        let(
            "torch.reshape(${if (dHidden.size == 1) dHidden.single().name else "torch.cat([${dHidden.joinToString { it.name }}], 0)"}, ${o.hidden.shape.literal()})",
            o.hidden.shape,
            low,
        )
    val surrogate =
        let(
            "torch.div(torch.add(torch.sum(torch.mul(${o.hidden.name}, ${dH.name})), torch.sum(torch.mul(${o.weight.name}, ${dWeight!!.name}))), ${count.name})",
            emptyList(),
            DType.F32,
        )
    return let(
        "torch.add(${loss.name}, torch.sub(${surrogate.name}, torch.detach(${surrogate.name})))",
        emptyList(),
        DType.F32,
    )
}

/**
 * The fp32 logits of a chunk of this many bytes at most live at once (1 GiB: 5,336 rows at V =
 * 50,304, so 7 chunks for 16 × 2,048 positions instead of one 6.6 GB buffer).
 */
internal const val DEFAULT_HEAD_LOSS_CHUNK_BYTES: Long = 1L shl 30

/** Rows [h] [R, D] of hidden states (in the products' precision), their targets and mask [R, 1]. */
private class HeadChunk(val h: Sym, val targets: Sym, val mask: Sym)

private fun ScriptWriter.narrow(s: Sym, start: Int, size: Int): Sym =
    let("torch.narrow(${s.name}, 0, $start, $size)", listOf(size) + s.shape.drop(1), s.dtype)

/**
 * One chunk: the masked sum of its losses, and (when [differentiable]) its dh [R, D] and its share
 * of dW [D, V], both in the products' precision and not yet divided by the count.
 */
private fun ScriptWriter.writeChunk(
    c: HeadChunk,
    weightLow: Sym,
    differentiable: Boolean,
): Pair<Sym, Pair<Sym, Sym>?> {
    val rows = c.h.shape[0]
    val vocab = weightLow.shape[1]
    val low = weightLow.dtype
    val logits = let("torch.matmul(${c.h.name}, ${weightLow.name})", listOf(rows, vocab), low)
    val z =
        if (low == DType.F32) logits
        else let("torch.to(${logits.name}, ${DType.F32.code})", logits.shape, DType.F32)
    val logSum = let("torch.logsumexp(${z.name}, [-1], True)", listOf(rows, 1), DType.F32)
    val picked = let("torch.gather(${z.name}, -1, ${c.targets.name})", listOf(rows, 1), DType.F32)
    val lossSum =
        let(
            "torch.sum(torch.mul(torch.sub(${logSum.name}, ${picked.name}), ${c.mask.name}))",
            emptyList(),
            DType.F32,
        )
    if (!differentiable) return lossSum to null
    // In place over z, which nothing reads after this: one [R, V] fp32 buffer instead of three.
    // exp(z − logsumexp(z)) is the softmax; then ·mask, and −mask at each target.
    val residual =
        let(
            "${z.name}.sub_(${logSum.name}).exp_().mul_(${c.mask.name}).scatter_add_(-1, ${c.targets.name}, torch.neg(${c.mask.name}))",
            z.shape,
            DType.F32,
        )
    val g =
        if (low == DType.F32) residual
        else let("torch.to(${residual.name}, ${low.code})", residual.shape, low)
    val dH =
        let("torch.matmul(${g.name}, torch.transpose(${weightLow.name}, 0, 1))", c.h.shape, low)
    val dW =
        let(
            "torch.matmul(torch.transpose(${c.h.name}, 0, 1), ${g.name})",
            listOf(c.h.shape[1], vocab),
            low,
        )
    return lossSum to (dH to dW)
}
