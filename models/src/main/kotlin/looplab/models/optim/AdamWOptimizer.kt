package looplab.models.optim

import ai.djl.ndarray.NDArrays
import ai.djl.ndarray.NDList
import looplab.dsl.AdamW
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import kotlin.math.pow
import kotlin.math.sqrt

/**
 * AdamW with decoupled weight decay, written here rather than taken from DJL so that its state
 * (both moments and the step count) can be saved and restored exactly.
 */
public class AdamWOptimizer(
    private val store: ParameterStore,
    private val backend: EagerBackend,
    private val config: AdamW,
) : Optimizer, AutoCloseable {
    private val stateManager = backend.manager.newSubManager()
    private val moments = AdamWMoments(store, stateManager)
    private val refs = moments.refs

    override var steps: Long = 0
        private set

    /** Gradients are left in place; zero them before the next backward pass. */
    override fun step(lr: Double, clipNorm: Double?, gradScale: Double): Double =
        backend.scoped(store.values, moments.first.values, moments.second.values) { _, scope ->
            val gradients = refs.associateWith { store.gradient(it) }
            // Every parameter's sum of squares in one device-to-host read, added in double in parameter order.
            val sums = gradients.values.map { it.square().sum() }
            val squares = if (sums.isEmpty()) FloatArray(0) else NDArrays.stack(NDList(sums)).toFloatArray()
            val norm = sqrt(squares.sumOf { it.toDouble() }) / gradScale
            if (!norm.isFinite()) return@scoped norm
            val clip = (if (clipNorm != null && norm > clipNorm) clipNorm / (norm + 1e-6) else 1.0) / gradScale
            steps += 1
            val correction1 = 1 - config.beta1.pow(steps.toDouble())
            val correction2 = 1 - config.beta2.pow(steps.toDouble())
            for (ref in refs) {
                val g = gradients.getValue(ref).let { if (clip != 1.0) it.mul(clip.toFloat()) else it }
                val m = moments.first.getValue(ref)
                val v = moments.second.getValue(ref)
                val p = store.array(ref)
                m.muli(config.beta1.toFloat()).addi(g.mul((1 - config.beta1).toFloat()))
                v.muli(config.beta2.toFloat()).addi(g.square().muli((1 - config.beta2).toFloat()))
                if (ref.decay && config.weightDecay > 0) p.muli((1 - lr * config.weightDecay).toFloat())
                val denominator = v.div(correction2.toFloat()).sqrt().addi(config.eps.toFloat())
                p.subi(m.div(denominator).muli((lr / correction1).toFloat()))
            }
            norm
        }

    /** Both moments by parameter name, and the step count: everything needed to resume exactly. */
    override fun snapshot(): OptimizerState = moments.snapshot(steps)

    override fun zeroGradients(): Unit = store.zeroGradients()

    override fun close(): Unit = stateManager.close()

    /** Restores a [snapshot]. */
    override fun load(state: OptimizerState) {
        moments.load(state)
        steps = state.steps
    }
}

/** A host copy of an optimizer's state. */
public class OptimizerState(public val steps: Long, public val tensors: Map<String, FloatArray>)
