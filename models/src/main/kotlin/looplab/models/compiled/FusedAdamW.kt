package looplab.models.compiled

import ai.djl.ndarray.NDArray
import ai.djl.pytorch.engine.PtNDArray
import ai.djl.pytorch.engine.PtNDManager
import ai.djl.pytorch.engine.PtSymbolBlock
import ai.djl.pytorch.jni.IValue
import ai.djl.pytorch.jni.IValueUtils
import looplab.dsl.AdamW
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.optim.AdamWMoments
import looplab.models.optim.Optimizer
import looplab.models.optim.OptimizerState
import looplab.models.params.ParamRef

/**
 * AdamW run inside libtorch: one TorchScript program clips the gradients with `_foreach` ops and
 * updates every parameter with `_fused_adamw_` (a couple of kernels for the whole model instead of
 * ten ops per parameter). Its moments are an [AdamWMoments], as [looplab.models.optim.AdamWOptimizer]'s are,
 * so checkpoints move between the two.
 *
 * Every list the program changes in place is passed in as an argument: TorchScript drops in-place
 * `_foreach` ops on lists built inside a script.
 */
public class FusedAdamW(private val store: ParameterStore, private val backend: EagerBackend, private val config: AdamW) : Optimizer, AutoCloseable {
    private val manager = backend.manager.newSubManager()
    private val moments = AdamWMoments(store, manager)
    private val refs = moments.refs
    private val decayed = refs.filter { it.decay && config.weightDecay > 0 }
    private val undecayed = refs - decayed.toSet()
    private val stepCounts: Map<ParamRef, NDArray> = refs.associateWith { manager.zeros(ai.djl.ndarray.types.Shape()) }
    private val program: PtSymbolBlock = TorchScriptArchive.load(backend.manager as PtNDManager, CLASS_NAME, methods())

    override var steps: Long = 0
        private set

    override fun step(lr: Double, clipNorm: Double?, gradScale: Double): Double = backend.scoped(store.values) { _, _ ->
        val gradients = refs.associateWith { store.gradient(it) }
        val norm = run("clip", list(refs.map { gradients.getValue(it) }), IValue.from(clipNorm ?: Double.MAX_VALUE), IValue.from(gradScale))
        if (!norm.isFinite()) return@scoped norm
        steps += 1
        val groups = listOf(decayed, undecayed).filter { it.isNotEmpty() }.flatMap { group ->
            listOf(store::array, gradients::getValue, moments.first::getValue, moments.second::getValue, stepCounts::getValue).map { pick -> list(group.map(pick)) }
        }
        run("update", *(groups + IValue.from(lr)).toTypedArray())
        norm
    }

    /** One `_foreach_zero_` launch for every gradient, instead of one call per parameter. */
    override fun zeroGradients(): Unit = backend.scoped(store.values) { _, _ ->
        run("zero", list(refs.map { store.gradient(it) }))
    }

    private fun run(method: String, vararg arguments: IValue): Double {
        try {
            IValueUtils.runMethod(program, method, *arguments).use { result ->
                return if (result.isTensor) result.toTensor(manager as PtNDManager).use { it.getFloat().toDouble() } else 0.0
            }
        } finally {
            arguments.forEach { it.close() }
        }
    }

    private fun list(arrays: List<NDArray>): IValue = IValue.listFrom(*arrays.map { it as PtNDArray }.toTypedArray())

    override fun close() {
        program.close()
        manager.close()
    }

    override fun snapshot(): OptimizerState = moments.snapshot(steps)

    override fun load(state: OptimizerState) {
        moments.load(state)
        // Copied from the host: set(index, value) fails on a 0-d array and would leave a scalar in this long-lived manager.
        for (ref in refs) stepCounts.getValue(ref).set(floatArrayOf(state.steps.toFloat()))
        steps = state.steps
    }

    /** The program's methods: `zero` zeroes the gradients, `clip` returns the global gradient norm; `update` is AdamW. */
    private fun methods(): String = buildString {
        // Unscale (fp16 loss scaling), then clip with the eager optimizer's factor:
        // max_norm / (norm + 1e-6), never above one. Without clipping, max_norm is huge.
        appendLine("  def zero(self: __torch__.$CLASS_NAME, grads: List[Tensor]) -> None:")
        appendLine("    torch._foreach_zero_(grads)")
        appendLine("  def clip(self: __torch__.$CLASS_NAME, grads: List[Tensor], max_norm: float, grad_scale: float) -> Tensor:")
        appendLine("    total = torch.div(torch.linalg_vector_norm(torch.stack(torch._foreach_norm(grads, 2)), 2), grad_scale)")
        appendLine("    coef = torch.div(torch.clamp_max(torch.div(torch.reciprocal(torch.add(total, 1.0E-6)), 1.0 / max_norm), 1.0), grad_scale)")
        appendLine("    torch._foreach_mul_(grads, coef)")
        appendLine("    return total")
        val groups = listOf(decayed to config.weightDecay, undecayed to 0.0).filter { it.first.isNotEmpty() }
        val arguments = groups.indices.joinToString("") { g -> "p$g: List[Tensor], g$g: List[Tensor], m$g: List[Tensor], v$g: List[Tensor], s$g: List[Tensor], " }
        appendLine("  def update(self: __torch__.$CLASS_NAME, ${arguments}lr: float) -> None:")
        groups.forEachIndexed { g, (_, decay) ->
            appendLine("    torch._foreach_add_(s$g, 1.0)")
            appendLine(
                "    torch._fused_adamw_(p$g, g$g, m$g, v$g, annotate(List[Tensor], []), s$g, lr=lr, beta1=${literal(config.beta1)}, " +
                    "beta2=${literal(config.beta2)}, weight_decay=${literal(decay)}, eps=${literal(config.eps)}, amsgrad=False, maximize=False, grad_scale=None, found_inf=None)",
            )
        }
        if (groups.isEmpty()) appendLine("    pass")
    }

    private companion object {
        const val CLASS_NAME = "Optimizer"
    }
}
