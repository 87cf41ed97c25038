package looplab.models.compiled

import ai.djl.ndarray.NDArray
import ai.djl.pytorch.jni.IValue
import looplab.dsl.Lion
import looplab.dsl.ParamRole
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.optim.Momentum
import looplab.models.optim.OptimizerState
import looplab.models.optim.ParamGroups
import looplab.models.params.ParamRef

/**
 * Lion inside libtorch: one program of `_foreach` ops per step, each group's update in a handful of
 * kernels. The arithmetic is written in [looplab.models.optim.LionOptimizer]'s order (products,
 * then sums), so the sign it takes sees the same values; the momentum layout (`m.<name>`) is shared
 * too.
 */
public class FusedLion(
    store: ParameterStore,
    backend: EagerBackend,
    private val config: Lion,
    multipliers: Map<ParamRole, Double> = emptyMap(),
) : FusedOptimizer(store, backend) {
    private val groups = ParamGroups.of(refs, config, multipliers)
    private val momentum = Momentum(refs, store, manager)

    init {
        compile()
    }

    override fun updateMethods(): String = buildString {
        val arguments =
            groups.indices.joinToString("") {
                "p$it: List[Tensor], g$it: List[Tensor], m$it: List[Tensor], "
            }
        appendLine("  def update(self: __torch__.$CLASS_NAME, ${arguments}lr: float) -> None:")
        groups.forEachIndexed { g, group ->
            val b1 = literal(config.beta1)
            val b2 = literal(config.beta2)
            appendLine("    c$g = torch._foreach_mul(m$g, $b1)")
            appendLine(
                "    torch._foreach_add_(c$g, torch._foreach_mul(g$g, ${literal(1 - config.beta1)}))"
            )
            appendLine("    u$g = torch._foreach_sign(c$g)")
            if (group.decay)
                appendLine(
                    "    torch._foreach_mul_(p$g, 1.0 - lr * ${literal(group.lrScale * config.weightDecay)})"
                )
            appendLine(
                "    torch._foreach_sub_(p$g, torch._foreach_mul(u$g, lr * ${literal(group.lrScale)}))"
            )
            appendLine("    torch._foreach_mul_(m$g, $b2)")
            appendLine(
                "    torch._foreach_add_(m$g, torch._foreach_mul(g$g, ${literal(1 - config.beta2)}))"
            )
        }
        if (groups.isEmpty()) appendLine("    pass")
    }

    override fun updateArguments(gradients: Map<ParamRef, NDArray>, lr: Double): List<IValue> =
        groups.flatMap { group ->
            listOf(
                list(group.refs.map(store::array)),
                list(group.refs.map(gradients::getValue)),
                list(group.refs.map(momentum.arrays::getValue)),
            )
        } + IValue.from(lr)

    override fun snapshot(): OptimizerState = OptimizerState(steps, momentum.snapshot())

    override fun load(state: OptimizerState) {
        momentum.load(state.tensors)
        steps = state.steps
    }
}
