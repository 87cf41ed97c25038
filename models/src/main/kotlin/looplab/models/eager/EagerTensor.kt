package looplab.models.eager

import ai.djl.ndarray.NDArray
import looplab.models.tensor.Tensor

/** A [Tensor] that is a DJL NDArray, computed as soon as it is asked for. */
public class EagerTensor(public val array: NDArray) : Tensor {
    override val shape: List<Int>
        get() = array.shape.shape.map { it.toInt() }
}

/** The NDArray behind a tensor of the eager backend. */
public val Tensor.array: NDArray
    get() =
        (this as? EagerTensor)?.array
            ?: error("tensor of another backend given to the eager backend: $this")
