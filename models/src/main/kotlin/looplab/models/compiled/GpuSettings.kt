package looplab.models.compiled

import com.sun.jna.Library
import com.sun.jna.Native

/** Process-wide libtorch settings that DJL exposes no call for. */
public object GpuSettings {
    private interface LibC : Library {
        fun setenv(name: String, value: String, overwrite: Int): Int
    }

    /**
     * Lets cuBLAS use TF32 for fp32 matrix products (PyTorch's `allow_tf32`), through the
     * environment variable libtorch reads when it first runs a matrix product. Call it before the
     * first GPU matmul; it is a no-op afterwards.
     */
    public fun allowTf32() {
        Native.load("c", LibC::class.java).setenv("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", "1", 1)
    }
}
