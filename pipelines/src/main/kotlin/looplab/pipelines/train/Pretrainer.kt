package looplab.pipelines.train

import looplab.curriculum.data.BatchStream
import looplab.curriculum.data.TokenBatch
import looplab.curriculum.schedule.TaskCurriculum
import looplab.dsl.TaskId
import looplab.dsl.PretrainSpec
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.ModelOutput
import looplab.models.Pass
import looplab.models.eager.ParameterStore
import looplab.models.optim.LossScaler
import looplab.models.optim.Optimizer
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.pipelines.plan.ResolvedData
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.TrainingState

/** Training stopped because the loss stopped being a number; the last checkpoint is kept. */
public class TrainingDivergedException(message: String) : RuntimeException(message)

/**
 * The pretraining loop of one model variant, nanoGPT-style: learning rate → forward and backward
 * → clip and step → log → (evaluate and checkpoint). All tensor work happens on the calling thread
 * through [executor] (eager or compiled); batches are made ahead by producer coroutines.
 */
public class Pretrainer(
    private val executor: Executor,
    private val optimizer: Optimizer,
    private val variant: String,
    private val model: LanguageModel,
    private val store: ParameterStore,
    private val stage: PretrainSpec,
    private val totalSteps: Long,
    private val data: TrainingData,
    /** Measures the model as it is now (accuracy grid); called at each evaluation point. */
    private val measure: (step: Long) -> List<AccuracyCell>,
    private val listener: TrainingListener,
    private val checkpoint: Checkpoint,
    private val producers: Int = 2,
    /** The experiment seed, for per-pass randomness of the model. */
    private val seed: Long = 0,
    /** fp16 training scales its loss; null for fp32 and bf16. */
    private val scaler: LossScaler? = null,
    /** Decides what each segment between evaluations draws; its state is checkpointed. */
    private val curriculum: TaskCurriculum? = null,
    /** Held-out perplexity and bits per byte, at each evaluation; null without language data. */
    private val measureLanguage: (() -> LanguageScore)? = null,
) {
    private val validation = data.validationBatches()

    /** Trains to the end of the budget, resuming from [checkpoint] if it holds an unfinished run. */
    public fun run(resume: Boolean = false): TrainingState {
        var state = TrainingState(variant, stage.id, step = 0, totalSteps = totalSteps, tokens = 0, elapsedSeconds = 0.0, complete = false)
        if (resume && checkpoint.exists) {
            state = checkpoint.state()
            checkpoint.restore(store, optimizer, state)
            state.curriculum?.let { saved -> curriculum?.restore(saved) }
            if (state.complete) return state
        }
        listener.started(variant, stage.id, totalSteps, state.step)
        val tokenBudget = ResolvedData.tokensBudget(stage)
        val evalEvery = stage.evalEvery?.steps
        var elapsed = state.elapsedSeconds
        var tokens = state.tokens
        var step = state.step

        // Segments run from one evaluation point to the next. The curriculum decides only at those
        // points, so every batch of a segment is drawn with the same Draw, and producers never work
        // past the segment's end: batches stay a pure function of (seed, index, state at the segment start).
        while (!done(step, tokens, tokenBudget)) {
            val draw = curriculum?.draw()
            val segmentEnd = evalEvery?.let { (step / it + 1) * it }
            BatchStream(producers, start = step, end = segmentEnd) { data.batch(it, draw) }.use { stream ->
                while (!done(step, tokens, tokenBudget) && (segmentEnd == null || step < segmentEnd)) {
                    val lr = stage.lr.rateAt(step, totalSteps)
                    val batch = stream.next()
                    val started = System.nanoTime()
                    val lossScale = scaler?.scale ?: 1.0
                    val (loss, extra) = forwardBackward(batch, Pass(training = true, step = step, seed = seed), lossScale)
                    if (!loss.isFinite()) diverged(step, "loss is $loss")
                    val gradNorm = optimizer.step(lr, stage.clipNorm, gradScale = lossScale)
                    // An fp16 overflow skips the update and lowers the scale; anywhere else it is divergence.
                    if (scaler != null) scaler.update(gradNorm.isFinite())
                    else if (!gradNorm.isFinite()) diverged(step, "the gradient norm is $gradNorm (the update was not applied)")
                    elapsed += (System.nanoTime() - started) / 1e9
                    tokens += batch.tokens
                    step += 1
                    val metrics = TrainMetrics(variant, stage.id, step, loss, lr, gradNorm, tokens, tokens / elapsed, elapsed, extra)
                    val last = done(step, tokens, tokenBudget)
                    // The first and last steps are always logged, so a record spans the whole stage.
                    listener.stepped(metrics, logged = step % stage.logEvery.steps == 0L || step == 1L || last)

                    if (last || (evalEvery != null && step % evalEvery == 0L)) {
                        val cells = measure(step)
                        val notes = curriculum?.observe(step, cells.byTaskAndLength()).orEmpty()
                        listener.evaluated(EvalMetrics(variant, stage.id, step, validationLoss(), cells, measureLanguage?.invoke(), notes))
                        checkpoint.save(TrainingState(variant, stage.id, step, totalSteps, tokens, elapsed, complete = last, curriculum = curriculum?.state), store, optimizer)
                    }
                }
            }
        }
        listener.finished(variant, stage.id)
        return checkpoint.state()
    }

    private fun diverged(step: Long, what: String): Nothing = throw TrainingDivergedException(
        "$variant diverged at step ${step + 1} of ${stage.id}: $what. " +
            "The last checkpoint (step ${if (checkpoint.exists) checkpoint.state().step else 0}) is kept; try a lower learning rate.",
    )

    private fun done(step: Long, tokens: Long, tokenBudget: Long?): Boolean =
        if (tokenBudget != null) tokens >= tokenBudget || step >= 2 * totalSteps else step >= totalSteps

    /** Loss and the model's extra metrics for one batch, leaving gradients on the parameters. */
    private fun forwardBackward(batch: TokenBatch, pass: Pass, lossScale: Double): Pair<Double, Map<String, Double>> {
        optimizer.zeroGradients()
        var names = emptyList<String>()
        val values = executor.run(store, train = true, lossScale = lossScale) { ops, params ->
            val out = model.loss(ops, params, batch, pass)
            names = out.metrics.keys.toList()
            listOf(out.loss) + out.metrics.values
        }
        return values[0][0].toDouble() to names.zip(values.drop(1)) { name, value -> name to value[0].toDouble() }.toMap()
    }

    private fun validationLoss(): Double = validation.map { batch ->
        executor.run(store, train = false) { ops, params -> listOf(model.loss(ops, params, batch).loss) }[0][0].toDouble()
    }.average()
}

/** The model's loss on a [TokenBatch]. */
internal fun LanguageModel.loss(ops: Ops, params: Params, batch: TokenBatch, pass: Pass = Pass.Inference): ModelOutput = loss(
    ops, params,
    inputs = ops.tokens(batch.inputs, batch.batch, batch.length),
    targets = ops.tokens(batch.targets, batch.batch, batch.length),
    mask = ops.floats(batch.mask, listOf(batch.batch, batch.length)),
    pass = pass,
)

/** Accuracy per task and length, as curricula read it. */
internal fun List<AccuracyCell>.byTaskAndLength(): Map<TaskId, Map<Int, Double>> =
    groupBy { TaskId(it.task) }.mapValues { (_, cells) -> cells.associate { it.length to it.accuracy } }
