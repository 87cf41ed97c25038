package looplab.pipelines.train

import looplab.dsl.AdamW
import looplab.dsl.Backend
import looplab.dsl.ExperimentSpec
import looplab.dsl.Lion
import looplab.dsl.Muon
import looplab.dsl.OptimizerSpec
import looplab.dsl.ParamRole
import looplab.dsl.Precision
import looplab.dsl.PretrainSpec
import looplab.models.Executor
import looplab.models.compiled.CompiledExecutor
import looplab.models.compiled.FusedAdamW
import looplab.models.compiled.FusedLion
import looplab.models.compiled.FusedMuon
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.optim.AdamWOptimizer
import looplab.models.optim.LionOptimizer
import looplab.models.optim.LossScaler
import looplab.models.optim.MuonOptimizer
import looplab.models.optim.Optimizer

/**
 * Picks the executor, optimizer and loss scaling an experiment's backend and precision call for.
 */
public object Execution {
    public fun executor(spec: ExperimentSpec, backend: EagerBackend): Executor =
        executor(spec.backend, spec.precision, backend)

    /** The executor of [kind]; [precision] is the compiled executor's. */
    public fun executor(kind: Backend, precision: Precision, backend: EagerBackend): Executor =
        when (kind) {
            Backend.Eager -> EagerExecutor(backend)
            Backend.Compiled -> CompiledExecutor(backend, precision)
        }

    /** The stage's optimizer; the compiled backend compiles it too, eager runs it op by op. */
    public fun optimizer(
        spec: ExperimentSpec,
        stage: PretrainSpec,
        store: ParameterStore,
        backend: EagerBackend,
    ): Optimizer =
        optimizer(spec.backend, stage.optimizer, store, backend, stage.lr.peak, stage.lrMultipliers)

    /**
     * The optimizer [config] for [store] on [kind]. [schedulePeak] is the stage schedule's peak
     * (Muon's own rate follows the schedule from its own peak); [multipliers] scale the rate per
     * role.
     */
    @JvmOverloads
    public fun optimizer(
        kind: Backend,
        config: OptimizerSpec,
        store: ParameterStore,
        backend: EagerBackend,
        schedulePeak: Double = 1.0,
        multipliers: Map<ParamRole, Double> = emptyMap(),
    ): Optimizer =
        when (config) {
            is AdamW ->
                when (kind) {
                    Backend.Eager -> AdamWOptimizer(store, backend, config, multipliers)
                    Backend.Compiled -> FusedAdamW(store, backend, config, multipliers)
                }
            is Lion ->
                when (kind) {
                    Backend.Eager -> LionOptimizer(store, backend, config, multipliers)
                    Backend.Compiled -> FusedLion(store, backend, config, multipliers)
                }
            is Muon ->
                when (kind) {
                    Backend.Eager ->
                        MuonOptimizer(store, backend, config, schedulePeak, multipliers)
                    Backend.Compiled -> FusedMuon(store, backend, config, schedulePeak, multipliers)
                }
        }

    public fun lossScaler(spec: ExperimentSpec): LossScaler? =
        if (spec.precision == Precision.Fp16Mixed) LossScaler() else null

    /** How far low-precision arithmetic may move a loss that padding must not move at all. */
    public fun checkTolerance(precision: Precision): Double =
        if (precision == Precision.Fp32) 1e-5 else 1e-2
}
