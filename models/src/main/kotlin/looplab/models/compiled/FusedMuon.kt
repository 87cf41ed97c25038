package looplab.models.compiled

import ai.djl.ndarray.NDArray
import ai.djl.pytorch.jni.IValue
import looplab.dsl.Muon
import looplab.dsl.ParamRole
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.optim.Momentum
import looplab.models.optim.MuonOptimizer
import looplab.models.optim.OptimizerState
import looplab.models.optim.ParamGroups
import looplab.models.params.ParamRef

/**
 * Muon inside libtorch, one program per step: the matrices' momentum with `_foreach` ops, each
 * matrix's Newton-Schulz iterations in bf16 on a GPU (fp32 on the CPU, which has no fast bf16
 * products), and AdamW for every other parameter with `_fused_adamw_`. The arithmetic and state
 * layout are [MuonOptimizer]'s, so the two agree and checkpoints move between them.
 */
public class FusedMuon(
    store: ParameterStore,
    backend: EagerBackend,
    private val config: Muon,
    schedulePeak: Double,
    multipliers: Map<ParamRole, Double> = emptyMap(),
) : FusedOptimizer(store, backend) {
    private val groups = ParamGroups.of(refs, config, multipliers)
    private val muonGroups = groups.filter { it.rule == "muon" }
    private val momentum = Momentum(muonGroups.flatMap { it.refs }, store, manager)
    private val adamw =
        FusedAdamWPart(groups.filter { it.rule == "adamw" }, config.adamw, store, manager, "a")
    private val muonRate = config.lr / schedulePeak
    private val dtype = if (backend.device.isGpu) DType.BF16 else DType.F32

    init {
        compile()
    }

    override fun updateMethods(): String = buildString {
        appendLine("  def ns(self: __torch__.$CLASS_NAME, g: Tensor) -> Tensor:")
        appendLine("    x = torch.to(g, ${dtype.code})")
        appendLine("    tall = torch.size(x, 0) > torch.size(x, 1)")
        appendLine("    if tall:")
        appendLine("      x = torch.t(x)")
        appendLine(
            "    x = torch.div(x, torch.add(torch.sqrt(torch.sum(torch.square(torch.to(x, 6)))), 1.0E-7))"
        )
        appendLine("    for _ in range(${config.steps}):")
        appendLine("      a = torch.mm(x, torch.t(x))")
        appendLine(
            "      b = torch.add(torch.mul(a, ${literal(MuonOptimizer.B)}), torch.mul(torch.mm(a, a), ${literal(MuonOptimizer.C)}))"
        )
        appendLine("      x = torch.add(torch.mul(x, ${literal(MuonOptimizer.A)}), torch.mm(b, x))")
        appendLine("    if tall:")
        appendLine("      x = torch.t(x)")
        appendLine("    return torch.to(x, 6)")
        val arguments =
            muonGroups.indices.joinToString("") {
                "p$it: List[Tensor], g$it: List[Tensor], m$it: List[Tensor], "
            }
        appendLine(
            "  def update(self: __torch__.$CLASS_NAME, $arguments${adamw.parameters()}lr: float) -> None:"
        )
        val beta = config.momentum
        muonGroups.forEachIndexed { g, group ->
            appendLine("    torch._foreach_mul_(m$g, ${literal(beta)})")
            appendLine(
                "    torch._foreach_add_(m$g, torch._foreach_mul(g$g, ${literal(1 - beta)}))"
            )
            val rate = muonRate * group.lrScale
            group.refs.forEachIndexed { i, ref ->
                val direction =
                    if (config.nesterov)
                        "torch.add(torch.mul(g$g[$i], ${literal(1 - beta)}), torch.mul(m$g[$i], ${literal(beta)}))"
                    else "m$g[$i]"
                appendLine("    u = self.ns($direction)")
                if (group.decay)
                    appendLine(
                        "    torch.mul_(p$g[$i], 1.0 - lr * ${literal(rate * config.weightDecay)})"
                    )
                appendLine(
                    "    torch.sub_(p$g[$i], torch.mul(u, lr * ${literal(rate * MuonOptimizer.shapeScale(ref.shape))}))"
                )
            }
        }
        append(adamw.body())
        if (muonGroups.isEmpty() && adamw.isEmpty) appendLine("    pass")
    }

    override fun updateArguments(gradients: Map<ParamRef, NDArray>, lr: Double): List<IValue> =
        muonGroups.flatMap { group ->
            listOf(
                list(group.refs.map(store::array)),
                list(group.refs.map(gradients::getValue)),
                list(group.refs.map(momentum.arrays::getValue)),
            )
        } + adamw.arguments(gradients) + IValue.from(lr)

    override fun snapshot(): OptimizerState =
        OptimizerState(steps, momentum.snapshot() + adamw.moments.snapshot())

    override fun load(state: OptimizerState) {
        momentum.load(state.tensors)
        adamw.load(state)
        steps = state.steps
    }
}
