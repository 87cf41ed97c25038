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
 * With [differentiable] false (evaluation) only the loss is written.
 */
internal fun ScriptWriter.writeHeadLoss(o: HeadLossOperands, differentiable: Boolean): Sym {
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
    val logits = let("torch.matmul(${h.name}, ${o.weightLow.name})", listOf(n, vocab), low)
    val z =
        if (low == DType.F32) logits
        else let("torch.to(${logits.name}, ${DType.F32.code})", logits.shape, DType.F32)
    val logSum = let("torch.logsumexp(${z.name}, [-1], True)", listOf(n, 1), DType.F32)
    val picked = let("torch.gather(${z.name}, -1, ${targets.name})", listOf(n, 1), DType.F32)
    val loss =
        let(
            "torch.div(torch.sum(torch.mul(torch.sub(${logSum.name}, ${picked.name}), ${mask.name})), ${count.name})",
            emptyList(),
            DType.F32,
        )
    if (!differentiable) return loss
    // In place over z, which nothing reads after this: one [N, V] fp32 buffer instead of three.
    // exp(z − logsumexp(z)) is the softmax; then ·mask, and −mask at each target.
    val residual =
        let(
            "${z.name}.sub_(${logSum.name}).exp_().mul_(${mask.name}).scatter_add_(-1, ${targets.name}, torch.neg(${mask.name}))",
            z.shape,
            DType.F32,
        )
    val g =
        if (low == DType.F32) residual
        else let("torch.to(${residual.name}, ${low.code})", residual.shape, low)
    val dHidden =
        let(
            "torch.reshape(torch.matmul(${g.name}, torch.transpose(${o.weightLow.name}, 0, 1)), ${o.hidden.shape.literal()})",
            o.hidden.shape,
            low,
        )
    val dWeight =
        let("torch.matmul(torch.transpose(${h.name}, 0, 1), ${g.name})", o.weight.shape, low)
    val surrogate =
        let(
            "torch.div(torch.add(torch.sum(torch.mul(${o.hidden.name}, ${dHidden.name})), torch.sum(torch.mul(${o.weight.name}, ${dWeight.name}))), ${count.name})",
            emptyList(),
            DType.F32,
        )
    return let(
        "torch.add(${loss.name}, torch.sub(${surrogate.name}, torch.detach(${surrogate.name})))",
        emptyList(),
        DType.F32,
    )
}
