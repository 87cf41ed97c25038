package looplab.dsl

import kotlinx.serialization.Serializable

/** How training computes: op by op, or as a compiled program. */
@Serializable
public enum class Backend {
    /** DJL NDArrays, one op at a time: fp32 only; the reference. */
    Eager,

    /**
     * A TorchScript program per traced shape, run inside libtorch: fused attention and optimizer,
     * mixed precision.
     */
    Compiled,
}

/** Number formats during training. */
@Serializable
public enum class Precision {
    /** Everything in fp32 (TF32 matrix units on a GPU where enabled). */
    Fp32,

    /**
     * Parameters, residual stream, norms and loss in fp32; matrix products and attention in bf16.
     */
    Bf16Mixed,

    /** As [Bf16Mixed] with fp16, and dynamic loss scaling against underflow. */
    Fp16Mixed,
}
