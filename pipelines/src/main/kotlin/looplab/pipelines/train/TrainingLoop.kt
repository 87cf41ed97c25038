package looplab.pipelines.train

import looplab.dsl.CheckpointPolicy
import looplab.dsl.LrSchedule
import looplab.dsl.OnNonFinite
import looplab.dsl.StopOnNonFinite
import looplab.models.Pass
import looplab.models.optim.LossScaler
import looplab.models.optim.Optimizer
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener

/** How one stage's loop runs: everything but its components. */
public class LoopSettings(
    public val variant: String,
    public val stage: String,
    public val budget: StageBudget,
    public val lr: LrSchedule,
    /** Global gradient-norm clipping threshold; null: none. */
    public val clipNorm: Double?,
    public val logEvery: Long,
    /** Micro-batches per optimizer step (gradient accumulation). */
    public val microBatches: Int = 1,
    /** The experiment seed, for per-pass randomness of the model. */
    public val seed: Long = 0,
    /**
     * What a NaN or infinite loss or gradient does: stop, or skip the step and lower the learning
     * rate.
     */
    public val onNonFinite: OnNonFinite = StopOnNonFinite,
)

/**
 * The training loop of every stage, nanoGPT-flat: learning rate → micro-batches (forward, backward)
 * → clip and step → log → evaluate and checkpoint when due. What a stage trains on and optimises is
 * its [Objective] and [Batches]; evaluation, checkpointing and the record keeping
 * ([TrainingListener]) are components called at those fixed points. All tensor work runs on the
 * calling thread; only batches are made elsewhere.
 */
public class TrainingLoop<B : Any>(
    private val settings: LoopSettings,
    private val optimizer: Optimizer,
    private val objective: Objective<B>,
    private val batches: Batches<B>,
    private val evaluation: Evaluation,
    private val checkpoints: Checkpointing,
    private val listener: TrainingListener,
    /** fp16 training scales its loss; null for fp32 and bf16. */
    private val scaler: LossScaler? = null,
    /**
     * Saves between evaluation points (every N steps or minutes) and on a stop request, which ends
     * the run.
     */
    private val trigger: CheckpointTrigger =
        CheckpointTrigger(CheckpointPolicy(every = null, minutes = null)),
) {
    /**
     * Trains to the end of the budget, continuing from the last checkpoint when there is one to
     * resume.
     */
    public fun run(): TrainingState =
        with(settings) {
            var state =
                checkpoints.resume()
                    ?: TrainingState(variant, stage, 0, budget.totalSteps, 0, 0.0, complete = false)
            if (state.complete) return state
            val guard =
                NonFiniteGuard(onNonFinite, "$variant ($stage)", state.lrScale, state.skippedSteps)
            listener.started(variant, stage, budget.totalSteps, state.step)
            batches.use {
                while (!budget.done(state.step, state.tokens)) {
                    val step = state.step
                    val rate = lr.rateAt(step, budget.totalSteps) * guard.lrScale
                    val batch = batches.next(step)
                    val started = System.nanoTime()
                    // Micro-batches: gradients add up on the parameters, each loss weighted by its
                    // share.
                    val lossScale = scaler?.scale ?: 1.0
                    optimizer.zeroGradients()
                    val loss =
                        objective.split(batch, microBatches).fold(StepLoss.Zero) { sum, micro ->
                            sum.plus(
                                objective.forwardBackward(
                                    micro.batch,
                                    Pass(training = true, step = step, seed = seed),
                                    lossScale * micro.weight,
                                ),
                                micro.weight,
                            )
                        }
                    // Clip and step; a non-finite loss is never stepped on: the guard stops the run
                    // or skips the step.
                    val gradNorm =
                        if (!guard.check(step, loss.loss, null) { checkpoints.lastStep }) Double.NaN
                        else optimizer.step(rate, clipNorm, gradScale = lossScale)
                    // An fp16 overflow skips the update and lowers the scale; anywhere else the
                    // guard decides.
                    if (scaler != null) scaler.update(gradNorm.isFinite())
                    else if (loss.loss.isFinite())
                        guard.check(step, loss.loss, gradNorm) { checkpoints.lastStep }
                    state =
                        state.copy(
                            step = step + 1,
                            tokens = state.tokens + objective.tokens(batch),
                            lrScale = guard.lrScale,
                            skippedSteps = guard.skipped,
                            elapsedSeconds =
                                state.elapsedSeconds + (System.nanoTime() - started) / 1e9,
                        )
                    // Log: the first and last steps always, so a record spans the whole stage.
                    val last = budget.done(state.step, state.tokens)
                    val metrics =
                        TrainMetrics(
                            variant,
                            stage,
                            state.step,
                            loss.loss,
                            rate,
                            gradNorm,
                            state.tokens,
                            state.tokens / state.elapsedSeconds,
                            state.elapsedSeconds,
                            loss.extra,
                        )
                    listener.stepped(
                        metrics,
                        logged = state.step % logEvery == 0L || state.step == 1L || last,
                    )
                    // Evaluate and checkpoint.
                    val evaluating = last || evaluation.due(state.step)
                    if (evaluating) {
                        val measured = evaluation.evaluate(state.step)
                        listener.evaluated(measured)
                        // Never a checkpoint from weights whose held-out loss is no longer a
                        // number.
                        guard.checkValidation(state.step, measured.validationLoss) {
                            checkpoints.lastStep
                        }
                        state = state.copy(complete = last)
                    }
                    if (evaluating || trigger.due(state.step)) {
                        checkpoints.save(state)
                        trigger.saved()
                    }
                    if (trigger.stopping && !last)
                        throw TrainingInterruptedException(
                            variant,
                            stage,
                            state.step,
                            trigger.stopReason,
                        )
                }
            }
            listener.finished(variant, stage)
            return state
        }
}
