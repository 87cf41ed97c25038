package looplab.models.compiled

import ai.djl.ndarray.NDArray
import ai.djl.pytorch.jni.IValue
import looplab.dsl.AdamW
import looplab.dsl.ParamRole
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.optim.AdamWMoments
import looplab.models.optim.OptimizerState
import looplab.models.optim.ParamGroup
import looplab.models.optim.ParamGroups
import looplab.models.params.ParamRef

/**
 * AdamW run inside libtorch: one program clips the gradients and updates each parameter group with
 * `_fused_adamw_` (a couple of kernels for the whole model instead of ten ops per parameter). Its
 * moments are an [AdamWMoments], as [looplab.models.optim.AdamWOptimizer]'s are, so checkpoints
 * move between the two.
 */
public class FusedAdamW(
    store: ParameterStore,
    backend: EagerBackend,
    config: AdamW,
    multipliers: Map<ParamRole, Double> = emptyMap(),
) : FusedOptimizer(store, backend) {
    private val part =
        FusedAdamWPart(ParamGroups.of(refs, config, multipliers), config, store, manager, "")

    init {
        compile()
    }

    override fun updateMethods(): String = buildString {
        appendLine(
            "  def update(self: __torch__.$CLASS_NAME, ${part.parameters()}lr: float) -> None:"
        )
        append(part.body())
        if (part.isEmpty) appendLine("    pass")
    }

    override fun updateArguments(gradients: Map<ParamRef, NDArray>, lr: Double): List<IValue> =
        part.arguments(gradients) + IValue.from(lr)

    override fun snapshot(): OptimizerState = OptimizerState(steps, part.moments.snapshot())

    override fun load(state: OptimizerState) {
        part.load(state)
        steps = state.steps
    }
}

/**
 * The AdamW part of a fused program: its groups' arguments and `_fused_adamw_` lines, named with
 * [prefix].
 */
internal class FusedAdamWPart(
    private val groups: List<ParamGroup>,
    private val config: AdamW,
    private val store: ParameterStore,
    manager: ai.djl.ndarray.NDManager,
    private val prefix: String,
) {
    val moments = AdamWMoments(groups.flatMap { it.refs }, store, manager)
    private val stepCounts: Map<ParamRef, NDArray> =
        moments.refs.associateWith { manager.zeros(ai.djl.ndarray.types.Shape()) }
    val isEmpty: Boolean
        get() = groups.isEmpty()

    fun parameters(): String =
        groups.indices.joinToString("") { g ->
            listOf("p", "g", "m", "v", "s").joinToString("") { "$prefix$it$g: List[Tensor], " }
        }

    fun body(): String = buildString {
        groups.forEachIndexed { g, group ->
            val n = "$prefix%s$g"
            appendLine("    torch._foreach_add_(${n.format("s")}, 1.0)")
            appendLine(
                "    torch._fused_adamw_(${n.format("p")}, ${n.format("g")}, ${n.format("m")}, ${n.format("v")}, annotate(List[Tensor], []), ${n.format("s")}, " +
                    "lr=lr * ${literal(group.lrScale)}, beta1=${literal(config.beta1)}, beta2=${literal(config.beta2)}, " +
                    "weight_decay=${literal(if (group.decay) config.weightDecay else 0.0)}, eps=${literal(config.eps)}, amsgrad=False, maximize=False, grad_scale=None, found_inf=None)"
            )
        }
    }

    fun arguments(gradients: Map<ParamRef, NDArray>): List<IValue> =
        groups.flatMap { group ->
            listOf(
                    store::array,
                    gradients::getValue,
                    moments.first::getValue,
                    moments.second::getValue,
                    stepCounts::getValue,
                )
                .map { pick ->
                    IValue.listFrom(
                        *group.refs
                            .map { pick(it) as ai.djl.pytorch.engine.PtNDArray }
                            .toTypedArray()
                    )
                }
        }

    fun load(state: OptimizerState) {
        moments.load(state.tensors)
        // Copied from the host: set(index, value) fails on a 0-d array and would leave a scalar in
        // this long-lived manager.
        for (ref in moments.refs) stepCounts.getValue(ref).set(floatArrayOf(state.steps.toFloat()))
    }
}
