package looplab.models.optim

import ai.djl.ndarray.NDArray
import kotlin.math.sqrt
import looplab.dsl.Muon
import looplab.dsl.ParamRole
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore

/**
 * Muon, op by op in fp32, for the hidden 2-D matrices, and AdamW for every other parameter. A
 * matrix's update is its Nesterov momentum orthogonalised by [Muon.steps] Newton-Schulz iterations,
 * scaled by `sqrt(max(1, outputs / inputs))` as the reference implementation scales PyTorch's
 * `[out, in]` weights (looplab stores `[in, out]`). Muon's rate is the stage's rate times `Muon.lr
 * / schedulePeak`, so it follows the stage's schedule from its own peak. State: `m.<name>` per
 * matrix, AdamW's `m.`/`v.` for the rest, and the step count.
 */
public class MuonOptimizer(
    private val store: ParameterStore,
    private val backend: EagerBackend,
    private val config: Muon,
    schedulePeak: Double,
    multipliers: Map<ParamRole, Double> = emptyMap(),
) : Optimizer, AutoCloseable {
    private val stateManager = backend.manager.newSubManager()
    private val groups = ParamGroups.of(store.registry.all, config, multipliers)
    private val muonGroups = groups.filter { it.rule == "muon" }
    private val momentum = Momentum(muonGroups.flatMap { it.refs }, store, stateManager)
    private val adamw =
        AdamWRule(groups.filter { it.rule == "adamw" }, config.adamw, store, stateManager)
    private val muonRate = config.lr / schedulePeak

    override var steps: Long = 0
        private set

    override fun step(lr: Double, clipNorm: Double?, gradScale: Double): Double =
        backend.scoped(
            store.values,
            momentum.arrays.values,
            adamw.moments.first.values,
            adamw.moments.second.values,
        ) { _, _ ->
            val gradients = store.registry.all.associateWith { store.gradient(it) }
            val norm = Clipping.norm(gradients.values, gradScale)
            if (!norm.isFinite()) return@scoped norm
            val clip = Clipping.factor(norm, clipNorm, gradScale)
            steps += 1
            val beta = config.momentum.toFloat()
            for (group in muonGroups) {
                val rate = lr * muonRate * group.lrScale
                for (ref in group.refs) {
                    val g =
                        gradients.getValue(ref).let {
                            if (clip != 1.0) it.mul(clip.toFloat()) else it
                        }
                    val m = momentum.arrays.getValue(ref)
                    m.muli(beta).addi(g.mul(1 - beta))
                    val direction = if (config.nesterov) g.mul(1 - beta).addi(m.mul(beta)) else m
                    val update = orthogonalise(direction, config.steps)
                    val p = store.array(ref)
                    if (group.decay) p.muli((1 - rate * config.weightDecay).toFloat())
                    p.subi(update.muli((rate * shapeScale(ref.shape)).toFloat()))
                }
            }
            adamw.update(gradients, clip, lr, steps)
            norm
        }

    override fun snapshot(): OptimizerState =
        OptimizerState(steps, momentum.snapshot() + adamw.moments.snapshot())

    override fun load(state: OptimizerState) {
        momentum.load(state.tensors)
        adamw.moments.load(state.tensors)
        steps = state.steps
    }

    override fun zeroGradients(): Unit = store.zeroGradients()

    override fun close(): Unit = stateManager.close()

    public companion object {
        /** The quintic Newton-Schulz coefficients of the reference implementation. */
        public const val A: Double = 3.4445
        public const val B: Double = -4.7750
        public const val C: Double = 2.0315

        /** `sqrt(max(1, outputs / inputs))` for a matrix stored `[inputs, outputs]`. */
        public fun shapeScale(shape: List<Int>): Double =
            sqrt(maxOf(1.0, shape[1].toDouble() / shape[0]))

        /**
         * [g] with its singular values pushed towards 1 by [steps] quintic Newton-Schulz iterations
         * (about [0.5, 1.5] after 5), on the wide orientation so `X·Xᵀ` is the smaller product.
         */
        public fun orthogonalise(g: NDArray, steps: Int): NDArray {
            val tall = g.shape[0] > g.shape[1]
            var x = if (tall) g.transpose() else g
            x = x.div(x.square().sum().sqrt().add(1e-7f))
            repeat(steps) {
                val a = x.matMul(x.transpose())
                val b = a.mul(B.toFloat()).add(a.matMul(a).mul(C.toFloat()))
                x = x.mul(A.toFloat()).add(b.matMul(x))
            }
            return if (tall) x.transpose() else x
        }
    }
}
