package looplab.models.eager

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDArrays
import ai.djl.ndarray.NDList
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.index.NDIndex
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import ai.djl.ndarray.types.SparseFormat
import ai.djl.nn.Activation
import kotlin.math.cos
import kotlin.math.pow
import kotlin.math.sin
import kotlin.math.sqrt
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * [Ops] on DJL NDArrays, computed at once. Every result is owned by [scope], so a step's
 * intermediates are freed together when the scope closes (DJL would otherwise give a result to its
 * first operand's manager, which for a parameter lives as long as the model).
 */
public class EagerOps
internal constructor(private val scope: NDManager, private val constants: ConstantCache) : Ops {
    private fun wrap(array: NDArray): Tensor {
        if (array.manager !== scope) array.attach(scope)
        return EagerTensor(array)
    }

    /**
     * A scalar that lives as long as the scope. DJL's `x.mul(2f)` makes a temporary scalar tensor
     * over a direct buffer and closes it straight away; autograd keeps that tensor for the backward
     * pass, and once the buffer is collected the gradient reads freed memory (sporadic NaN/inf).
     * Every scalar operand of a differentiable op therefore goes through here.
     */
    private fun scalar(value: Double): NDArray = scope.create(value.toFloat())

    override fun tokens(ids: IntArray, batch: Int, length: Int): Tensor {
        require(ids.size == batch * length) { "expected ${batch * length} ids, got ${ids.size}" }
        return wrap(
            scope.create(
                LongArray(ids.size) { ids[it].toLong() },
                Shape(batch.toLong(), length.toLong()),
            )
        )
    }

    override fun floats(values: FloatArray, shape: List<Int>): Tensor =
        wrap(scope.create(values, shape.toShape()))

    override fun zeros(shape: List<Int>): Tensor = wrap(scope.zeros(shape.toShape()))

    override fun full(value: Double, shape: List<Int>): Tensor =
        wrap(scope.full(shape.toShape(), value.toFloat()))

    override fun add(a: Tensor, b: Tensor): Tensor = wrap(a.array.add(b.array))

    override fun sub(a: Tensor, b: Tensor): Tensor = wrap(a.array.sub(b.array))

    override fun mul(a: Tensor, b: Tensor): Tensor = wrap(a.array.mul(b.array))

    override fun scale(x: Tensor, factor: Double): Tensor = wrap(x.array.mul(scalar(factor)))

    override fun sigmoid(x: Tensor): Tensor = wrap(Activation.sigmoid(x.array))

    override fun silu(x: Tensor): Tensor = wrap(x.array.mul(Activation.sigmoid(x.array)))

    override fun reshape(x: Tensor, shape: List<Int>): Tensor =
        wrap(x.array.reshape(shape.toShape()))

    override fun transpose(x: Tensor, axis1: Int, axis2: Int): Tensor =
        wrap(x.array.swapAxes(axis1, axis2))

    override fun slice(x: Tensor, axis: Int, start: Int, end: Int): Tensor {
        val rank = x.shape.size
        val normalized = if (axis < 0) rank + axis else axis
        val index = NDIndex()
        repeat(normalized) { index.addAllDim() }
        index.addSliceDim(start.toLong(), end.toLong())
        return wrap(x.array.get(index))
    }

    override fun concat(xs: List<Tensor>, axis: Int): Tensor =
        wrap(NDArrays.concat(NDList(*xs.map { it.array }.toTypedArray()), axis))

    override fun matmul(a: Tensor, b: Tensor): Tensor = wrap(a.array.matMul(b.array))

    override fun linear(x: Tensor, w: Tensor): Tensor = wrap(x.array.matMul(w.array))

    override fun mean(x: Tensor, axis: Int, keepDim: Boolean): Tensor =
        wrap(x.array.mean(intArrayOf(axis), keepDim))

    override fun sumAll(x: Tensor): Tensor = wrap(x.array.sum())

    override fun softmax(x: Tensor, axis: Int): Tensor = wrap(x.array.softmax(axis))

    override fun argmax(x: Tensor, axis: Int): Tensor =
        wrap(x.array.argMax(axis).toType(DataType.FLOAT32, false))

    override fun divide(a: Tensor, b: Tensor): Tensor = wrap(a.array.div(b.array))

    override fun exp(x: Tensor): Tensor = wrap(x.array.exp())

    override fun sqrt(x: Tensor): Tensor = wrap(x.array.sqrt())

    override fun softplus(x: Tensor): Tensor = wrap(Activation.softPlus(x.array))

    override fun sum(x: Tensor, axis: Int, keepDim: Boolean): Tensor =
        wrap(x.array.sum(intArrayOf(axis), keepDim))

    override fun cumsum(x: Tensor, axis: Int): Tensor = wrap(x.array.cumSum(axis))

    override fun logSumExp(x: Tensor, axis: Int, keepDim: Boolean): Tensor {
        // Shifting by the (constant) maximum keeps exp finite; the shift cancels in value and
        // gradient.
        val shift = x.array.max(intArrayOf(axis), true).stopGradient()
        val result = x.array.sub(shift).exp().sum(intArrayOf(axis), true).log().add(shift)
        return wrap(if (keepDim) result else result.squeeze(axis))
    }

    override fun broadcastTo(x: Tensor, shape: List<Int>): Tensor =
        wrap(x.array.broadcast(shape.toShape()))

    override fun causalConv1d(x: Tensor, weight: Tensor, dilation: Int): Tensor {
        val (batch, _, channels) = x.shape
        val kernel = weight.shape[1]
        val leftPad = (kernel - 1) * dilation
        var input = x.array.swapAxes(1, 2)
        if (leftPad > 0)
            input =
                scope
                    .zeros(Shape(batch.toLong(), channels.toLong(), leftPad.toLong()))
                    .concat(input, 2)
        val bias = scope.zeros(Shape(channels.toLong()))
        val out =
            input.ndArrayInternal
                .convolution(
                    input,
                    weight.array.reshape(channels.toLong(), 1, kernel.toLong()),
                    bias,
                    Shape(1),
                    Shape(0),
                    Shape(dilation.toLong()),
                    channels,
                )
                .singletonOrThrow()
        return wrap(out.swapAxes(1, 2))
    }

    override fun topkMask(x: Tensor, k: Int): Tensor {
        val width = x.shape.last()
        val indices = x.array.stopGradient().topK(k, -1, true, false)[1]
        return wrap(indices.oneHot(width, DataType.FLOAT32).sum(intArrayOf(-2)))
    }

    override fun sampleInOrder(logits: Tensor, uniforms: Tensor, temperature: Double): Tensor {
        val vocab = logits.shape.last()
        val d = logits.array.toType(DataType.FLOAT64, false)
        val weights = d.sub(d.max(intArrayOf(-1), true)).div(temperature).exp()
        val running = weights.cumSum(-1)
        val target =
            uniforms.array
                .toType(DataType.FLOAT64, false)
                .expandDims(-1)
                .mul(running.get(ai.djl.ndarray.index.NDIndex("..., ${vocab - 1}:")))
        val drawn = running.lte(target).sum(intArrayOf(-1)).clip(0, vocab - 1)
        return wrap(drawn.toType(DataType.FLOAT32, false))
    }

    override fun writeSlot(cache: Tensor, fresh: Tensor, slots: Tensor): Tensor {
        val (batch, _, capacity, _) = cache.shape
        val slotIds = scope.arange(0, capacity, 1, DataType.INT64)
        val oneHot =
            slotIds
                .reshape(1, 1, capacity.toLong(), 1)
                .eq(slots.array.reshape(batch.toLong(), 1, 1, 1))
                .toType(DataType.FLOAT32, false)
        // Multiplying by exact zeros and ones: the untouched slots come back bit for bit.
        val keep = scalar(1.0).sub(oneHot)
        return wrap(cache.array.mul(keep).add(fresh.array.mul(oneHot)))
    }

    override fun greaterEqual(a: Tensor, b: Tensor): Tensor =
        wrap(a.array.gte(b.array).toType(DataType.FLOAT32, false))

    override fun embedding(ids: Tensor, table: Tensor): Tensor =
        wrap(
            ids.array.ndArrayInternal
                .embedding(ids.array, table.array, SparseFormat.DENSE)
                .singletonOrThrow()
        )

    override fun rmsNorm(x: Tensor, gain: Tensor, eps: Double): Tensor {
        val a = x.array
        val rms = a.square().mean(intArrayOf(-1), true).add(scalar(eps)).sqrt()
        return wrap(a.div(rms).mul(gain.array))
    }

    override fun rope(x: Tensor, base: Double, offset: Int): Tensor {
        val (_, _, length, headSize) = x.shape
        val (cos, sin) = constants.rope(length, headSize, base, offset)
        val a = x.array
        val half = headSize / 2
        val first = a.get(NDIndex("..., :$half"))
        val second = a.get(NDIndex("..., $half:"))
        val rotated = second.neg().concat(first, -1)
        return wrap(a.mul(cos).add(rotated.mul(sin)))
    }

    override fun causalAttention(q: Tensor, k: Tensor, v: Tensor, window: Int?): Tensor {
        val length = q.shape[2]
        val headSize = q.shape[3]
        val scores =
            q.array.matMul(k.array.swapAxes(-1, -2)).mul(scalar(1.0 / sqrt(headSize.toDouble())))
        val weights = scores.add(constants.causalMask(length, window)).softmax(-1)
        return wrap(weights.matMul(v.array))
    }

    override fun ropeAt(x: Tensor, base: Double, positions: IntArray): Tensor {
        val (batch, _, length, headSize) = x.shape
        require(positions.size == batch * length) {
            "ropeAt: ${positions.size} positions for a [$batch, $length] batch"
        }
        val half = headSize / 2
        fun table(f: (Double) -> Double) =
            FloatArray(batch * length * headSize) { i ->
                val frequency = 1.0 / base.pow((i % headSize % half).toDouble() * 2 / headSize)
                f(positions[i / headSize] * frequency).toFloat()
            }
        val shape = Shape(batch.toLong(), 1, length.toLong(), headSize.toLong())
        val cos = scope.create(table(::cos), shape)
        val sin = scope.create(table(::sin), shape)
        val a = x.array
        val rotated = a.get(NDIndex("..., $half:")).neg().concat(a.get(NDIndex("..., :$half")), -1)
        return wrap(a.mul(cos).add(rotated.mul(sin)))
    }

    override fun maskedAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor): Tensor {
        val headSize = q.shape[3]
        val scores =
            q.array.matMul(k.array.swapAxes(-1, -2)).mul(scalar(1.0 / sqrt(headSize.toDouble())))
        return wrap(scores.add(mask.array).softmax(-1).matMul(v.array))
    }

    override fun documentCausalAttention(
        q: Tensor,
        k: Tensor,
        v: Tensor,
        segments: Tensor,
    ): Tensor {
        val length = q.shape[2]
        val headSize = q.shape[3]
        val ids = segments.array
        val same = ids.expandDims(-1).eq(ids.expandDims(-2))
        // [B, 1, T, T]: 0 within a document, -inf across; added to the causal mask, so a position
        // always sees at least itself and no softmax row is empty.
        val documents =
            NDArrays.where(
                    same,
                    scope.zeros(same.shape),
                    scope.full(same.shape, Float.NEGATIVE_INFINITY),
                )
                .expandDims(1)
        val scores =
            q.array.matMul(k.array.swapAxes(-1, -2)).mul(scalar(1.0 / sqrt(headSize.toDouble())))
        val weights = scores.add(constants.causalMask(length)).add(documents).softmax(-1)
        return wrap(weights.matMul(v.array))
    }

    override fun tokenLogProbs(logits: Tensor, targets: Tensor): Tensor =
        wrap(logits.array.logSoftmax(-1).gather(targets.array.expandDims(-1), -1).squeeze(-1))

    override fun minimum(a: Tensor, b: Tensor): Tensor = wrap(a.array.minimum(b.array))

    override fun detach(x: Tensor): Tensor = wrap(x.array.stopGradient())

    override fun clamp(x: Tensor, min: Double, max: Double): Tensor =
        wrap(x.array.clip(min.toFloat(), max.toFloat()))

    override fun crossEntropy(logits: Tensor, targets: Tensor, mask: Tensor): Tensor {
        val logProbs = logits.array.logSoftmax(-1)
        val picked = logProbs.gather(targets.array.expandDims(-1), -1).squeeze(-1)
        val total = picked.mul(mask.array).sum().neg()
        // max(count, 1): a batch of padding only has loss 0, not NaN.
        return wrap(total.div(mask.array.sum().maximum(scalar(1.0))))
    }
}
