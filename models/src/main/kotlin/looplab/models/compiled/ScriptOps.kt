package looplab.models.compiled

import looplab.models.params.ParamRef
import looplab.models.params.ParamRegistry
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/** A value the traced program takes as input, with the host data this pass binds to it. */
internal sealed interface ProgramInput {
    val shape: List<Int>

    class Ints(val values: IntArray, override val shape: List<Int>) : ProgramInput

    class Floats(val values: FloatArray, override val shape: List<Int>) : ProgramInput

    /** A device array passed in as it is (decoding state), with no host copy. */
    class Bound(val array: ai.djl.ndarray.NDArray, override val shape: List<Int>) : ProgramInput
}

/**
 * [Ops] that write TorchScript instead of computing: running a model with them traces one program.
 * Shapes are inferred here, so model code that reads shapes works unchanged.
 *
 * With a [low] precision (bf16 or fp16) it follows autocast's rules: matrix products and attention
 * take low-precision operands and give low-precision results; norms, softmax, reductions and the
 * loss run in fp32; element-wise ops promote (so the residual stream, added in fp32, stays fp32);
 * parameters are stored in fp32 and cast once per use site per pass.
 */
internal class ScriptOps(
    private val registry: ParamRegistry,
    private var low: DType? = null,
    /** Whether the program's outputs will be differentiated (a training pass). */
    private val differentiable: Boolean = true,
    /** The most fp32 logits [linearCrossEntropy] holds at once, in bytes. */
    private val headLossChunkBytes: Long = DEFAULT_HEAD_LOSS_CHUNK_BYTES,
) : Ops, Params {
    private val writer = ScriptWriter()
    private val paramIndex = registry.index
    private val paramSyms = HashMap<ParamRef, Sym>()
    private val lowCasts = HashMap<String, Sym>()
    private val detachedCasts = HashMap<String, Sym>()
    private val ropeTables = HashMap<String, RopeConstants>()
    private val ropeAtTables = HashMap<String, Pair<Sym, Sym>>()
    private val windowBands = HashMap<String, Sym>()
    val inputs = mutableListOf<ProgramInput>()

    /** The method body written so far, indented for a class body. */
    fun body(): String = writer.body("    ")

    /** The name under which [output] is returned, cast to fp32 first if needed. */
    fun finish(output: Tensor): String = cast(sym(output), DType.F32).name

    // --- parameters and inputs ------------------------------------------------------------------

    override fun get(ref: ParamRef): Tensor =
        paramSyms.getOrPut(ref) {
            val index = paramIndex[ref] ?: error("parameter ${ref.name} is not part of this model")
            writer.let("params[$index]", ref.shape, DType.F32)
        }

    override fun tokens(ids: IntArray, batch: Int, length: Int): Tensor {
        require(ids.size == batch * length) { "expected ${batch * length} ids, got ${ids.size}" }
        inputs += ProgramInput.Ints(ids, listOf(batch, length))
        return Sym("x${inputs.size - 1}", listOf(batch, length), DType.I64)
    }

    override fun floats(values: FloatArray, shape: List<Int>): Tensor {
        inputs += ProgramInput.Floats(values, shape)
        return Sym("x${inputs.size - 1}", shape, DType.F32)
    }

    /** A device array the program reads as an input (decoding state kept between calls). */
    fun bind(array: ai.djl.ndarray.NDArray): Tensor {
        val shape = array.shape.shape.map { it.toInt() }
        inputs += ProgramInput.Bound(array, shape)
        return Sym("x${inputs.size - 1}", shape, DType.F32)
    }

    // Made in the program, on the parameters' device: no input to upload each pass.
    override fun zeros(shape: List<Int>): Tensor =
        writer.let(
            "torch.zeros(${shape.literal()}, dtype=${DType.F32.code}, device=params[0].device)",
            shape,
            DType.F32,
        )

    override fun full(value: Double, shape: List<Int>): Tensor =
        writer.let(
            "torch.full(${shape.literal()}, ${literal(value)}, dtype=${DType.F32.code}, device=params[0].device)",
            shape,
            DType.F32,
        )

    // --- element-wise ---------------------------------------------------------------------------

    override fun add(a: Tensor, b: Tensor): Tensor = binary("torch.add", a, b)

    override fun sub(a: Tensor, b: Tensor): Tensor = binary("torch.sub", a, b)

    override fun mul(a: Tensor, b: Tensor): Tensor = binary("torch.mul", a, b)

    override fun scale(x: Tensor, factor: Double): Tensor =
        sym(x).let { writer.let("torch.mul(${it.name}, ${literal(factor)})", it.shape, it.dtype) }

    override fun sigmoid(x: Tensor): Tensor =
        sym(x).let { writer.let("torch.sigmoid(${it.name})", it.shape, it.dtype) }

    override fun silu(x: Tensor): Tensor =
        sym(x).let { writer.let("torch.silu(${it.name})", it.shape, it.dtype) }

    private fun binary(op: String, a: Tensor, b: Tensor): Tensor {
        val x = sym(a)
        val y = sym(b)
        return writer.let(
            "$op(${x.name}, ${y.name})",
            Shapes.broadcast(x.shape, y.shape),
            promote(x.dtype, y.dtype),
        )
    }

    // --- shape ----------------------------------------------------------------------------------

    override fun reshape(x: Tensor, shape: List<Int>): Tensor {
        val s = sym(x)
        return writer.let(
            "torch.reshape(${s.name}, ${shape.literal()})",
            Shapes.reshape(s.shape, shape),
            s.dtype,
        )
    }

    override fun transpose(x: Tensor, axis1: Int, axis2: Int): Tensor {
        val s = sym(x)
        return writer.let(
            "torch.transpose(${s.name}, $axis1, $axis2)",
            Shapes.transpose(s.shape, axis1, axis2),
            s.dtype,
        )
    }

    override fun slice(x: Tensor, axis: Int, start: Int, end: Int): Tensor {
        val s = sym(x)
        return writer.let(
            "torch.slice(${s.name}, $axis, $start, $end)",
            Shapes.slice(s.shape, axis, start, end),
            s.dtype,
        )
    }

    override fun concat(xs: List<Tensor>, axis: Int): Tensor {
        val syms = xs.map(::sym)
        val dtype = syms.map { it.dtype }.reduce(::promote)
        val parts = syms.map { cast(it, dtype) }
        return writer.let(
            "torch.cat(${parts.joinToString(", ", "[", "]") { it.name }}, $axis)",
            Shapes.concat(parts.map { it.shape }, axis),
            dtype,
        )
    }

    // --- linear algebra and reductions ----------------------------------------------------------

    override fun matmul(a: Tensor, b: Tensor): Tensor {
        val x = lowOperand(sym(a))
        val y = lowOperand(sym(b))
        return writer.let(
            "torch.matmul(${x.name}, ${y.name})",
            Shapes.matmul(x.shape, y.shape),
            x.dtype,
        )
    }

    override fun linear(x: Tensor, w: Tensor): Tensor = matmul(x, w)

    override fun mean(x: Tensor, axis: Int, keepDim: Boolean): Tensor {
        val s = cast(sym(x), DType.F32)
        return writer.let(
            "torch.mean(${s.name}, [$axis], ${py(keepDim)})",
            Shapes.reduce(s.shape, axis, keepDim),
            DType.F32,
        )
    }

    override fun sumAll(x: Tensor): Tensor {
        val s = cast(sym(x), DType.F32)
        return writer.let("torch.sum(${s.name})", emptyList(), DType.F32)
    }

    override fun argmax(x: Tensor, axis: Int): Tensor {
        val s = cast(sym(x), DType.F32)
        val at = if (axis < 0) s.shape.size + axis else axis
        return writer.let(
            "torch.to(torch.argmax(${s.name}, $axis), 6)",
            s.shape.filterIndexed { i, _ -> i != at },
            DType.F32,
        )
    }

    override fun sampleInOrder(logits: Tensor, uniforms: Tensor, temperature: Double): Tensor {
        val x = sym(logits)
        val u = sym(uniforms)
        val vocab = x.shape.last()
        val rows = x.shape.dropLast(1)
        require(u.shape == rows) { "uniforms ${u.shape} must have the shape ${rows} of the rows" }
        val d = cast(x, DType.F64)
        val weights =
            writer.let(
                "torch.exp(torch.div(torch.sub(${d.name}, torch.amax(${d.name}, [-1], True)), ${literal(temperature)}))",
                x.shape,
                DType.F64,
            )
        val running = writer.let("torch.cumsum(${weights.name}, -1)", x.shape, DType.F64)
        val target =
            writer.let(
                "torch.mul(${cast(u, DType.F64).name}.unsqueeze(-1), ${running.name}.narrow(-1, ${vocab - 1}, 1))",
                rows + 1,
                DType.F64,
            )
        return writer.let(
            "torch.to(torch.clamp(torch.sum(torch.le(${running.name}, ${target.name}), [-1]), 0, ${vocab - 1}), 6)",
            rows,
            DType.F32,
        )
    }

    override fun writeSlot(cache: Tensor, fresh: Tensor, slots: Tensor): Tensor {
        val c = sym(cache)
        val (batch, heads, _, size) = c.shape
        val f = cast(sym(fresh), c.dtype)
        val index = "${sym(slots).name}.view([$batch, 1, 1, 1]).expand([$batch, $heads, 1, $size])"
        // In place: the cache is a state input of this program, and no other op reads it after.
        return writer.let("${c.name}.scatter_(2, $index, ${f.name})", c.shape, c.dtype)
    }

    override fun softmax(x: Tensor, axis: Int): Tensor {
        val s = cast(sym(x), DType.F32)
        return writer.let("torch.softmax(${s.name}, $axis)", s.shape, DType.F32)
    }

    // --- transformer building blocks ------------------------------------------------------------

    override fun embedding(ids: Tensor, table: Tensor): Tensor {
        val i = sym(ids)
        val t = sym(table)
        return writer.let(
            "torch.embedding(${t.name}, ${i.name})",
            i.shape + t.shape.last(),
            t.dtype,
        )
    }

    override fun rmsNorm(x: Tensor, gain: Tensor, eps: Double): Tensor {
        val s = cast(sym(x), DType.F32)
        val g = sym(gain)
        // ATen's own RMSNorm: one fused kernel on a GPU instead of six element-wise ones.
        return writer.let(
            "torch.rms_norm(${s.name}, [${s.shape.last()}], ${g.name}, ${literal(eps)})",
            s.shape,
            DType.F32,
        )
    }

    override fun rope(x: Tensor, base: Double, offset: Int): Tensor {
        val s = sym(x)
        require(s.shape.size == 4) {
            "rope expects [batch, heads, time, head size], got ${s.shape}"
        }
        val (batch, heads, length, headSize) = s.shape
        val dtype = s.dtype
        val tables =
            ropeTables.getOrPut("$length:$headSize:$base:$offset:${dtype.code}") {
                ropeConstants(s, base, offset)
            }
        // Rotated in the [B, T, H, D] layout that the projection wrote: attention hands rope the
        // transposed view [B, H, T, D], and element-wise kernels over that strided view fall onto
        // ATen's slow generic path (measured: the largest single waste of an osrt-v3 step). The
        // transpose back gives attention the same view as before. x·cos + rotate_half(x)·sin is one
        // addcmul.
        val contiguous =
            writer.let(
                "torch.transpose(${s.name}, 1, 2)",
                listOf(batch, length, heads, headSize),
                dtype,
            )
        val half = headSize / 2
        val turned =
            tables.swap?.let { swap ->
                writer.let(
                    "torch.matmul(${contiguous.name}, ${swap.name})",
                    contiguous.shape,
                    dtype,
                )
            }
                ?: writer.let(
                    "torch.cat([torch.neg(torch.slice(${contiguous.name}, -1, $half, $headSize)), torch.slice(${contiguous.name}, -1, 0, $half)], -1)",
                    contiguous.shape,
                    dtype,
                )
        val rotated =
            writer.let(
                "torch.addcmul(torch.mul(${contiguous.name}, ${tables.cos.name}), ${turned.name}, ${tables.sin.name})",
                contiguous.shape,
                dtype,
            )
        return writer.let("torch.transpose(${rotated.name}, 1, 2)", s.shape, dtype)
    }

    /**
     * cos and sin [T, 1, D] in [s]'s precision and, in low precision, the rotate-half matrix P
     * [D, D] with x·P = cat(-x[D/2:], x[:D/2]): a signed permutation, exact in bf16 and fp16 (one
     * nonzero term per output), and one GEMM instead of two slices, a negation and a concatenation
     * whose backward copies slices. In fp32 a GPU's TF32 matrix products would round x, so fp32
     * keeps the concatenation.
     */
    private class RopeConstants(val cos: Sym, val sin: Sym, val swap: Sym?)

    private fun ropeConstants(s: Sym, base: Double, offset: Int): RopeConstants {
        val (_, _, length, headSize) = s.shape
        val dtype = s.dtype
        val half = headSize / 2
        // Angles in float64, as the eager backend computes them on the host, then rounded to fp32
        // and from there to the projection's precision (queries and keys enter attention in it).
        val frequency =
            writer.let(
                "torch.reciprocal(torch.pow(${literal(base)}, torch.mul(torch.arange($half, dtype=7, device=${s.name}.device), ${literal(2.0 / headSize)})))",
                listOf(half),
                DType.F64,
            )
        val positions =
            writer.let(
                "torch.add(torch.arange($length, dtype=7, device=${s.name}.device), $offset)",
                listOf(length),
                DType.F64,
            )
        val angles =
            writer.let(
                "torch.outer(${positions.name}, ${frequency.name})",
                listOf(length, half),
                DType.F64,
            )
        val both =
            writer.let(
                "torch.reshape(torch.cat([${angles.name}, ${angles.name}], -1), [$length, 1, $headSize])",
                listOf(length, 1, headSize),
                DType.F64,
            )
        val cos =
            writer.let(
                "torch.to(torch.to(torch.cos(${both.name}), 6), ${dtype.code})",
                both.shape,
                dtype,
            )
        val sin =
            writer.let(
                "torch.to(torch.to(torch.sin(${both.name}), 6), ${dtype.code})",
                both.shape,
                dtype,
            )
        if (dtype == DType.F32) return RopeConstants(cos, sin, null)
        // Column j < half of P takes -x[j + half], column j ≥ half takes x[j - half].
        val identity =
            writer.let(
                "torch.eye($half, dtype=${dtype.code}, device=${s.name}.device)",
                listOf(half, half),
                dtype,
            )
        val zero =
            writer.let(
                "torch.zeros([$half, $half], dtype=${dtype.code}, device=${s.name}.device)",
                listOf(half, half),
                dtype,
            )
        val swap =
            writer.let(
                "torch.cat([torch.cat([${zero.name}, ${identity.name}], 1), torch.cat([torch.neg(${identity.name}), ${zero.name}], 1)], 0)",
                listOf(headSize, headSize),
                dtype,
            )
        return RopeConstants(cos, sin, swap)
    }

    override fun ropeAt(x: Tensor, base: Double, positions: IntArray): Tensor {
        val s = sym(x)
        val (batch, _, length, headSize) = s.shape
        require(positions.size == batch * length) {
            "ropeAt: ${positions.size} positions for a [$batch, $length] batch"
        }
        val half = headSize / 2
        // The positions are an input of the program (one program serves every decoding step); the
        // tables are made once per positions array and shared by every layer of the pass.
        // x·cos + rotate_half(x)·sin with rotate_half(x) = cat(-x₂, x₁) = roll(x, half)·(-1…, 1…):
        // the sign goes into the sine table, made once per pass, so each use is three kernels
        // (roll, mul, addcmul) instead of seven. A decoding step is bound by how many kernels the
        // host dispatches, not by their work.
        val (cos, signedSin) =
            ropeAtTables.getOrPut("at:${System.identityHashCode(positions)}:$headSize:$base") {
                inputs += ProgramInput.Ints(positions, listOf(batch, length))
                val input = "x${inputs.size - 1}"
                val frequency =
                    writer.let(
                        "torch.reciprocal(torch.pow(${literal(base)}, torch.mul(torch.arange($half, dtype=7, device=params[0].device), ${literal(2.0 / headSize)})))",
                        listOf(half),
                        DType.F64,
                    )
                val angles =
                    writer.let(
                        "torch.unsqueeze(torch.mul(torch.unsqueeze(torch.to($input, 7), -1), ${frequency.name}), 1)",
                        listOf(batch, 1, length, half),
                        DType.F64,
                    )
                val shape = listOf(batch, 1, length, headSize)
                val sine = writer.let("torch.sin(${angles.name})", angles.shape, DType.F64)
                writer.let(
                    "torch.to(torch.cos(torch.cat([${angles.name}, ${angles.name}], -1)), 6)",
                    shape,
                    DType.F32,
                ) to
                    writer.let(
                        "torch.to(torch.cat([torch.neg(${sine.name}), ${sine.name}], -1), 6)",
                        shape,
                        DType.F32,
                    )
            }
        val c = cast(cos, s.dtype)
        val sn = cast(signedSin, s.dtype)
        return writer.let(
            "torch.addcmul(torch.mul(${s.name}, ${c.name}), torch.roll(${s.name}, [$half], [-1]), ${sn.name})",
            s.shape,
            promote(s.dtype, c.dtype),
        )
    }

    override fun maskedAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor): Tensor {
        val dtype = low ?: DType.F32
        val (qs, ks, vs) = listOf(q, k, v).map { cast(sym(it), dtype) }
        val m = cast(sym(mask), dtype)
        return writer.let(
            "torch.scaled_dot_product_attention(${qs.name}, ${ks.name}, ${vs.name}, ${m.name}, 0.0, False)",
            qs.shape.dropLast(1) + vs.shape.last(),
            dtype,
        )
    }

    override fun causalAttention(q: Tensor, k: Tensor, v: Tensor, window: Int?): Tensor {
        val dtype = low ?: DType.F32
        val (qs, ks, vs) = listOf(q, k, v).map { cast(sym(it), dtype) }
        if (window != null) {
            // The band t − window < s ≤ t as a boolean mask (true: may attend).
            val length = qs.shape[2]
            // Made once per program: every layer and loop attends over the same band.
            val band =
                windowBands.getOrPut("$length:$window") {
                    writer.let(
                        "torch.triu(torch.tril(torch.ones([$length, $length], dtype=${DType.BOOL.code}, device=${qs.name}.device)), ${1 - window})",
                        listOf(length, length),
                        DType.BOOL,
                    )
                }
            return writer.let(
                "torch.scaled_dot_product_attention(${qs.name}, ${ks.name}, ${vs.name}, ${band.name}, 0.0, False)",
                qs.shape.dropLast(1) + vs.shape.last(),
                dtype,
            )
        }
        // One fused kernel (flash or memory-efficient attention on a GPU) instead of scores,
        // mask, softmax and product: the reason to compile at all.
        return writer.let(
            "torch.scaled_dot_product_attention(${qs.name}, ${ks.name}, ${vs.name}, None, 0.0, True)",
            qs.shape.dropLast(1) + vs.shape.last(),
            dtype,
        )
    }

    override fun documentCausalAttention(
        q: Tensor,
        k: Tensor,
        v: Tensor,
        segments: Tensor,
    ): Tensor {
        val dtype = low ?: DType.F32
        val (qs, ks, vs) = listOf(q, k, v).map { cast(sym(it), dtype) }
        val ids = sym(segments)
        val (batch, length) = ids.shape
        // A boolean mask (true: may attend) of causal and same-document; SDPA then picks a kernel
        // that takes a mask (memory-efficient attention on a GPU) instead of flash attention.
        val allowed =
            writer.let(
                "torch.unsqueeze(torch.logical_and(torch.eq(torch.unsqueeze(${ids.name}, -1), torch.unsqueeze(${ids.name}, -2)), " +
                    "torch.tril(torch.ones([$length, $length], dtype=${DType.BOOL.code}, device=${ids.name}.device))), 1)",
                listOf(batch, 1, length, length),
                DType.BOOL,
            )
        return writer.let(
            "torch.scaled_dot_product_attention(${qs.name}, ${ks.name}, ${vs.name}, ${allowed.name}, 0.0, False)",
            qs.shape.dropLast(1) + vs.shape.last(),
            dtype,
        )
    }

    override fun tokenLogProbs(logits: Tensor, targets: Tensor): Tensor {
        val l = sym(logits)
        val t = sym(targets)
        val logProbs = writer.let("torch.log_softmax(${l.name}, -1, 6)", l.shape, DType.F32)
        return writer.let(
            "torch.squeeze(torch.gather(${logProbs.name}, -1, torch.unsqueeze(${t.name}, -1)), -1)",
            t.shape,
            DType.F32,
        )
    }

    override fun minimum(a: Tensor, b: Tensor): Tensor = binary("torch.minimum", a, b)

    override fun detach(x: Tensor): Tensor =
        sym(x).let { writer.let("torch.detach(${it.name})", it.shape, it.dtype) }

    override fun clamp(x: Tensor, min: Double, max: Double): Tensor =
        sym(x).let {
            writer.let(
                "torch.clamp(${it.name}, ${literal(min)}, ${literal(max)})",
                it.shape,
                it.dtype,
            )
        }

    override fun crossEntropy(logits: Tensor, targets: Tensor, mask: Tensor): Tensor {
        val l = sym(logits)
        val t = sym(targets)
        val m = cast(sym(mask), DType.F32)
        // log_softmax reads low-precision logits and computes in fp32 itself: no separate cast
        // pass over the [B, T, V] logits, the largest tensor of a step.
        val logProbs = writer.let("torch.log_softmax(${l.name}, -1, 6)", l.shape, DType.F32)
        val picked =
            writer.let(
                "torch.squeeze(torch.gather(${logProbs.name}, -1, torch.unsqueeze(${t.name}, -1)), -1)",
                t.shape,
                DType.F32,
            )
        val total =
            writer.let(
                "torch.neg(torch.sum(torch.mul(${picked.name}, ${m.name})))",
                emptyList(),
                DType.F32,
            )
        return writer.let(
            "torch.div(${total.name}, torch.clamp_min(torch.sum(${m.name}), 1.0))",
            emptyList(),
            DType.F32,
        )
    }

    // The head weight is shared by the final head, auxiliary heads and per-loop losses: its
    // detached cast is made once per pass, as [cast] does for the ordinary path.
    override fun linearCrossEntropy(
        x: Tensor,
        weight: Tensor,
        targets: Tensor,
        mask: Tensor,
    ): Tensor {
        val h = sym(x)
        val w = sym(weight)
        val dtype = low ?: DType.F32
        return writer.writeHeadLoss(
            HeadLossOperands(
                hidden = h,
                weight = w,
                hiddenLow = detachedCast(h, dtype),
                weightLow = detachedCast(w, dtype),
                targets = sym(targets),
                mask = cast(sym(mask), DType.F32),
            ),
            differentiable,
            headLossChunkBytes,
        )
    }

    private fun detachedCast(s: Sym, dtype: DType): Sym =
        detachedCasts.getOrPut("${s.name}:${dtype.code}") {
            writer.let("torch.to(torch.detach(${s.name}), ${dtype.code})", s.shape, dtype)
        }

    // --- model-zoo ops
    // ----------------------------------------------------------------------------

    override fun divide(a: Tensor, b: Tensor): Tensor = binary("torch.div", a, b)

    // Like autocast: exponentials, roots and running or reduced sums run in fp32.
    override fun exp(x: Tensor): Tensor = fp32Unary("torch.exp", x)

    override fun sqrt(x: Tensor): Tensor = fp32Unary("torch.sqrt", x)

    override fun softplus(x: Tensor): Tensor = fp32Unary("torch.softplus", x)

    override fun sum(x: Tensor, axis: Int, keepDim: Boolean): Tensor {
        val s = cast(sym(x), DType.F32)
        return writer.let(
            "torch.sum(${s.name}, [$axis], ${py(keepDim)})",
            Shapes.reduce(s.shape, axis, keepDim),
            DType.F32,
        )
    }

    override fun cumsum(x: Tensor, axis: Int): Tensor {
        val s = cast(sym(x), DType.F32)
        Shapes.axis(s.shape, axis)
        return writer.let("torch.cumsum(${s.name}, $axis)", s.shape, DType.F32)
    }

    override fun logSumExp(x: Tensor, axis: Int, keepDim: Boolean): Tensor {
        val s = cast(sym(x), DType.F32)
        return writer.let(
            "torch.logsumexp(${s.name}, [$axis], ${py(keepDim)})",
            Shapes.reduce(s.shape, axis, keepDim),
            DType.F32,
        )
    }

    override fun broadcastTo(x: Tensor, shape: List<Int>): Tensor {
        val s = sym(x)
        require(Shapes.broadcast(s.shape, shape) == shape) {
            "cannot broadcast ${s.shape} to $shape"
        }
        return writer.let("torch.expand(${s.name}, ${shape.literal()})", shape, s.dtype)
    }

    override fun causalConv1d(x: Tensor, weight: Tensor, dilation: Int): Tensor {
        val dtype = low ?: DType.F32
        val input = cast(sym(x), dtype)
        val w = cast(sym(weight), dtype)
        val (batch, time, channels) = input.shape
        val kernel = w.shape[1]
        // Left padding only: output t sees inputs ≤ t.
        val padded =
            writer.let(
                "torch.constant_pad_nd(torch.transpose(${input.name}, 1, 2), [${(kernel - 1) * dilation}, 0], 0.0)",
                listOf(batch, channels, time + (kernel - 1) * dilation),
                dtype,
            )
        val conv =
            writer.let(
                "torch.conv1d(${padded.name}, torch.reshape(${w.name}, [$channels, 1, $kernel]), None, [1], [0], [$dilation], $channels)",
                listOf(batch, channels, time),
                dtype,
            )
        return writer.let("torch.transpose(${conv.name}, 1, 2)", input.shape, dtype)
    }

    override fun topkMask(x: Tensor, k: Int): Tensor {
        val s = sym(x)
        val width = s.shape.last()
        return writer.let(
            "torch.to(torch.sum(torch.one_hot(torch.topk(torch.detach(${s.name}), $k, -1, True, False)[1], $width), [-2]), 6)",
            s.shape,
            DType.F32,
        )
    }

    override fun greaterEqual(a: Tensor, b: Tensor): Tensor {
        val x = sym(a)
        val y = sym(b)
        return writer.let(
            "torch.to(torch.ge(${x.name}, ${y.name}), 6)",
            Shapes.broadcast(x.shape, y.shape),
            DType.F32,
        )
    }

    private fun fp32Unary(op: String, x: Tensor): Tensor {
        val s = cast(sym(x), DType.F32)
        return writer.let("$op(${s.name})", s.shape, DType.F32)
    }

    override fun <T> fullPrecision(block: () -> T): T {
        val saved = low
        low = null
        try {
            return block()
        } finally {
            low = saved
        }
    }

    // --- precision ------------------------------------------------------------------------------

    private fun lowOperand(s: Sym): Sym = cast(s, low ?: DType.F32)

    private fun cast(s: Sym, dtype: DType): Sym =
        when {
            s.dtype == dtype || !s.dtype.isFloat -> s
            dtype == low ->
                lowCasts.getOrPut(s.name) {
                    writer.let("torch.to(${s.name}, ${dtype.code})", s.shape, dtype)
                }
            else -> writer.let("torch.to(${s.name}, ${dtype.code})", s.shape, dtype)
        }

    private fun promote(a: DType, b: DType): DType =
        when {
            a == b -> a
            !a.isFloat -> b
            !b.isFloat -> a
            a == DType.F64 || b == DType.F64 -> DType.F64
            else -> DType.F32
        }

    private fun sym(t: Tensor): Sym =
        t as? Sym ?: error("tensor of another backend given to the compiled backend: $t")

    private fun py(b: Boolean): String = if (b) "True" else "False"
}
