package looplab.models.optim

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import kotlin.math.pow
import looplab.dsl.AdamW
import looplab.dsl.ParamRole
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.params.ParamRef

/**
 * AdamW with decoupled weight decay, written here rather than taken from DJL so that its state
 * (both moments and the step count) can be saved and restored exactly. Decay applies to the
 * parameters whose role decays (hidden matrices); [multipliers] scale the rate per role.
 */
public class AdamWOptimizer(
    private val store: ParameterStore,
    private val backend: EagerBackend,
    config: AdamW,
    multipliers: Map<ParamRole, Double> = emptyMap(),
) : Optimizer, AutoCloseable {
    private val stateManager = backend.manager.newSubManager()
    private val rule =
        AdamWRule(
            ParamGroups.of(store.registry.all, config, multipliers),
            config,
            store,
            stateManager,
        )

    override var steps: Long = 0
        private set

    /** Gradients are left in place; zero them before the next backward pass. */
    override fun step(lr: Double, clipNorm: Double?, gradScale: Double): Double =
        backend.scoped(store.values, rule.moments.first.values, rule.moments.second.values) { _, _
            ->
            val gradients = store.registry.all.associateWith { store.gradient(it) }
            val norm = Clipping.norm(gradients.values, gradScale)
            if (!norm.isFinite()) return@scoped norm
            steps += 1
            rule.update(gradients, Clipping.factor(norm, clipNorm, gradScale), lr, steps)
            norm
        }

    /** Both moments by parameter name, and the step count: everything needed to resume exactly. */
    override fun snapshot(): OptimizerState = OptimizerState(steps, rule.moments.snapshot())

    override fun zeroGradients(): Unit = store.zeroGradients()

    override fun close(): Unit = stateManager.close()

    /** Restores a [snapshot]. */
    override fun load(state: OptimizerState) {
        rule.moments.load(state.tensors)
        steps = state.steps
    }
}

/**
 * AdamW's update of [groups] op by op, shared by [AdamWOptimizer] and Muon's non-matrix parameters.
 */
internal class AdamWRule(
    private val groups: List<ParamGroup>,
    private val config: AdamW,
    private val store: ParameterStore,
    manager: NDManager,
) {
    val moments = AdamWMoments(groups.flatMap { it.refs }, store, manager)

    /**
     * One update at step [steps] (1-based, for the bias corrections), gradients multiplied by
     * [clip] first.
     */
    fun update(gradients: Map<ParamRef, NDArray>, clip: Double, lr: Double, steps: Long) {
        val correction1 = 1 - config.beta1.pow(steps.toDouble())
        val correction2 = 1 - config.beta2.pow(steps.toDouble())
        for (group in groups) {
            val rate = lr * group.lrScale
            for (ref in group.refs) {
                val g =
                    gradients.getValue(ref).let { if (clip != 1.0) it.mul(clip.toFloat()) else it }
                val m = moments.first.getValue(ref)
                val v = moments.second.getValue(ref)
                val p = store.array(ref)
                m.muli(config.beta1.toFloat()).addi(g.mul((1 - config.beta1).toFloat()))
                v.muli(config.beta2.toFloat()).addi(g.square().muli((1 - config.beta2).toFloat()))
                if (group.decay) p.muli((1 - rate * config.weightDecay).toFloat())
                val denominator = v.div(correction2.toFloat()).sqrt().addi(config.eps.toFloat())
                p.subi(m.div(denominator).muli((rate / correction1).toFloat()))
            }
        }
    }
}

/** A host copy of an optimizer's state. */
public class OptimizerState(public val steps: Long, public val tensors: Map<String, FloatArray>)
