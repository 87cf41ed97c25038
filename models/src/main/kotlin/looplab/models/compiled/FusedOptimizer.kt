package looplab.models.compiled

import ai.djl.ndarray.NDArray
import ai.djl.pytorch.engine.PtNDArray
import ai.djl.pytorch.engine.PtNDManager
import ai.djl.pytorch.engine.PtSymbolBlock
import ai.djl.pytorch.jni.IValue
import ai.djl.pytorch.jni.IValueUtils
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.optim.Optimizer
import looplab.models.params.ParamRef

/**
 * An optimizer run inside libtorch as one TorchScript program: `zero` zeroes every gradient in one
 * `_foreach_zero_`, `clip` unscales and clips them with `_foreach` ops and returns the global norm,
 * and a subclass's `update` applies its rule. Every list the program changes in place is passed in
 * as an argument: TorchScript drops in-place `_foreach` ops on lists built inside a script.
 */
public abstract class FusedOptimizer(
    protected val store: ParameterStore,
    protected val backend: EagerBackend,
) : Optimizer, AutoCloseable {
    protected val manager: ai.djl.ndarray.NDManager = backend.manager.newSubManager()
    protected val refs: List<ParamRef> = store.registry.all
    private lateinit var program: PtSymbolBlock

    final override var steps: Long = 0
        protected set

    /**
     * Compiles and loads the program; each subclass calls it last in its constructor, once the
     * fields its [updateMethods] reads are set (and outside any scope, as the program outlives
     * steps).
     */
    protected fun compile() {
        program = TorchScriptArchive.load(backend.manager as PtNDManager, CLASS_NAME, methods())
    }

    /** The source of the `update` method (and any helpers), each `def` indented by two spaces. */
    protected abstract fun updateMethods(): String

    /** The arguments of `update` after the gradients are clipped, its learning rate last. */
    protected abstract fun updateArguments(
        gradients: Map<ParamRef, NDArray>,
        lr: Double,
    ): List<IValue>

    override fun step(lr: Double, clipNorm: Double?, gradScale: Double): Double =
        backend.scoped(store.values) { _, _ ->
            val gradients = refs.associateWith { store.gradient(it) }
            val norm =
                run(
                    "clip",
                    list(refs.map { gradients.getValue(it) }),
                    IValue.from(clipNorm ?: Double.MAX_VALUE),
                    IValue.from(gradScale),
                )
            if (!norm.isFinite()) return@scoped norm
            steps += 1
            run("update", *updateArguments(gradients, lr).toTypedArray())
            norm
        }

    /** One `_foreach_zero_` launch for every gradient, instead of one call per parameter. */
    override fun zeroGradients(): Unit =
        backend.scoped(store.values) { _, _ -> run("zero", list(refs.map { store.gradient(it) })) }

    override fun close() {
        program.close()
        manager.close()
    }

    protected fun list(arrays: List<NDArray>): IValue =
        IValue.listFrom(*arrays.map { it as PtNDArray }.toTypedArray())

    private fun run(method: String, vararg arguments: IValue): Double {
        try {
            IValueUtils.runMethod(program, method, *arguments).use { result ->
                return if (result.isTensor)
                    result.toTensor(manager as PtNDManager).use { it.getFloat().toDouble() }
                else 0.0
            }
        } finally {
            arguments.forEach { it.close() }
        }
    }

    private fun methods(): String = buildString {
        appendLine("  def zero(self: __torch__.$CLASS_NAME, grads: List[Tensor]) -> None:")
        appendLine("    torch._foreach_zero_(grads)")
        // Unscale (fp16 loss scaling), then clip with the eager optimizers' factor:
        // max_norm / (norm + 1e-6), never above one. Without clipping, max_norm is huge.
        appendLine(
            "  def clip(self: __torch__.$CLASS_NAME, grads: List[Tensor], max_norm: float, grad_scale: float) -> Tensor:"
        )
        appendLine(
            "    total = torch.div(torch.linalg_vector_norm(torch.stack(torch._foreach_norm(grads, 2)), 2), grad_scale)"
        )
        appendLine(
            "    coef = torch.div(torch.clamp_max(torch.div(torch.reciprocal(torch.add(total, 1.0E-6)), 1.0 / max_norm), 1.0), grad_scale)"
        )
        appendLine("    torch._foreach_mul_(grads, coef)")
        appendLine("    return total")
        append(updateMethods())
    }

    public companion object {
        // The module class every fused optimizer program defines.
        public const val CLASS_NAME: String = "Optimizer"
    }
}
