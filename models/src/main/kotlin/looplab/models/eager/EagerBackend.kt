package looplab.models.eager

import ai.djl.Device
import ai.djl.engine.Engine
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.NDResource
import ai.djl.training.GradientCollector

/**
 * Runs [EagerOps] on one device. DJL's autograd state is per thread and only one gradient collector
 * may be open per JVM, so a backend must be used from a single thread throughout.
 */
public class EagerBackend(public val device: Device = Device.cpu()) : AutoCloseable {
    /** Owns every long-lived array of this backend (parameters, optimizer state, constants). */
    public val manager: NDManager = NDManager.newBaseManager(device)
    internal val constants = ConstantCache(manager.newSubManager())
    private val owner = Thread.currentThread()

    /**
     * Runs [block] with ops whose results live until it returns. [longLived] arrays (parameters,
     * optimizer state) are attached to the scope meanwhile, so that anything derived from them is
     * freed with it, and are given back to their owners afterwards. Read what you need on the host
     * before returning: tensors do not outlive the block.
     */
    public fun <R> scoped(
        vararg longLived: Collection<NDResource>,
        block: (EagerOps, NDManager) -> R,
    ): R {
        check(Thread.currentThread() === owner) {
            "the eager backend was created on ${owner.name} but used on ${Thread.currentThread().name}: keep tensor work on one thread"
        }
        return manager.newSubManager().use { scope ->
            longLived.forEach { group -> group.forEach { it.tempAttach(scope) } }
            block(EagerOps(scope, constants), scope)
        }
    }

    /** Opens DJL's gradient collector for one forward and backward pass. */
    public fun gradients(): GradientCollector = Engine.getInstance().newGradientCollector()

    override fun close() {
        constants.close()
        manager.close()
    }

    public companion object {
        /** Picks a device: [gpu] ≥ 0 asks for that GPU and fails clearly if there is none. */
        public fun device(gpu: Int?): Device {
            if (gpu == null) return Device.cpu()
            val available = Engine.getInstance().gpuCount
            require(gpu < available) {
                "GPU $gpu was asked for, but the PyTorch engine sees ${if (available == 0) "no GPU" else "$available GPU(s)"}"
            }
            return Device.gpu(gpu)
        }
    }
}
