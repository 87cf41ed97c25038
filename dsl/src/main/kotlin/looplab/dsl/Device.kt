package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** Where tensors live. */
@Serializable public sealed interface DeviceSpec

/** The host CPU (the default; works offline with the bundled PyTorch natives). */
@Serializable @SerialName("cpu") public data object Cpu : DeviceSpec

/** An NVIDIA GPU by index. */
@Serializable @SerialName("gpu") public data class Gpu(val index: Int = 0) : DeviceSpec
