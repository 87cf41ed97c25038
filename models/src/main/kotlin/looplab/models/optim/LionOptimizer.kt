package looplab.models.optim

import looplab.dsl.Lion
import looplab.dsl.ParamRole
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore

/**
 * Lion, op by op: `c = β1·m + (1−β1)·g`, `p ← p·(1 − lr·wd) − lr·sign(c)`, then `m ← β2·m +
 * (1−β2)·g`. Its state is one momentum per parameter (`m.<name>`) and the step count.
 */
public class LionOptimizer(
    private val store: ParameterStore,
    private val backend: EagerBackend,
    private val config: Lion,
    multipliers: Map<ParamRole, Double> = emptyMap(),
) : Optimizer, AutoCloseable {
    private val stateManager = backend.manager.newSubManager()
    private val groups = ParamGroups.of(store.registry.all, config, multipliers)
    private val momentum = Momentum(store.registry.all, store, stateManager)

    override var steps: Long = 0
        private set

    override fun step(lr: Double, clipNorm: Double?, gradScale: Double): Double =
        backend.scoped(store.values, momentum.arrays.values) { _, _ ->
            val gradients = store.registry.all.associateWith { store.gradient(it) }
            val norm = Clipping.norm(gradients.values, gradScale)
            if (!norm.isFinite()) return@scoped norm
            val clip = Clipping.factor(norm, clipNorm, gradScale)
            steps += 1
            for (group in groups) {
                val rate = lr * group.lrScale
                for (ref in group.refs) {
                    val g =
                        gradients.getValue(ref).let {
                            if (clip != 1.0) it.mul(clip.toFloat()) else it
                        }
                    val m = momentum.arrays.getValue(ref)
                    val p = store.array(ref)
                    val update =
                        m.mul(config.beta1.toFloat())
                            .addi(g.mul((1 - config.beta1).toFloat()))
                            .sign()
                    if (group.decay) p.muli((1 - rate * config.weightDecay).toFloat())
                    p.subi(update.muli(rate.toFloat()))
                    m.muli(config.beta2.toFloat()).addi(g.mul((1 - config.beta2).toFloat()))
                }
            }
            norm
        }

    override fun snapshot(): OptimizerState = OptimizerState(steps, momentum.snapshot())

    override fun load(state: OptimizerState) {
        momentum.load(state.tensors)
        steps = state.steps
    }

    override fun zeroGradients(): Unit = store.zeroGradients()

    override fun close(): Unit = stateManager.close()
}
