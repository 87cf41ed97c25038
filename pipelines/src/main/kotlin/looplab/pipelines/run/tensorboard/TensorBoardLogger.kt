package looplab.pipelines.run.tensorboard

import java.nio.file.Path
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener

/**
 * Writes a run's scalars for TensorBoard under `tensorboard/<variant>/`, one event file per
 * variant, so `tensorboard --logdir runs/<experiment>/<time>/tensorboard` overlays the variants on
 * each chart. Tags are `<stage>/<metric>`: every logged step's loss, learning rate, gradient norm
 * and tokens/s, and every evaluation's held-out loss, perplexity and accuracy per task
 * (`accuracy_iid/parity`).
 */
public class TensorBoardLogger(private val dir: Path) : TrainingListener, AutoCloseable {
    private val files = HashMap<String, EventFile>()

    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
        if (!logged) return
        val s = metrics.stage
        file(metrics.variant)
            .scalars(
                metrics.step,
                buildMap {
                    put("$s/loss", metrics.loss)
                    put("$s/lr", metrics.lr)
                    if (metrics.gradNorm.isFinite()) put("$s/grad_norm", metrics.gradNorm)
                    put("$s/tokens_per_second", metrics.tokensPerSecond)
                    metrics.extra.forEach { (name, value) -> put("$s/$name", value) }
                },
            )
    }

    override fun evaluated(metrics: EvalMetrics) {
        val s = metrics.stage
        val f = file(metrics.variant)
        f.scalars(
            metrics.step,
            buildMap {
                metrics.validationLoss?.let { put("$s/heldout_loss", it) }
                metrics.language?.let {
                    put("$s/perplexity", it.perplexity)
                    put("$s/bits_per_byte", it.bitsPerByte)
                }
                metrics.accuracy
                    .groupBy { it.split to it.task }
                    .forEach { (key, cells) ->
                        put(
                            "$s/accuracy_${key.first}/${key.second}",
                            cells.map { it.accuracy }.average(),
                        )
                    }
            },
        )
        f.flush()
    }

    override fun finished(variant: String, stage: String) {
        files[variant]?.flush()
    }

    override fun close() {
        files.values.forEach { it.close() }
        files.clear()
    }

    private fun file(variant: String): EventFile =
        files.getOrPut(variant) { EventFile.create(dir.resolve(variant)) }
}
