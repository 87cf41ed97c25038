package looplab.pipelines.run

import com.github.ajalt.mordant.animation.progress.ThreadProgressTaskAnimator
import com.github.ajalt.mordant.animation.progress.animateOnThread
import com.github.ajalt.mordant.animation.progress.execute
import com.github.ajalt.mordant.animation.progress.update
import com.github.ajalt.mordant.terminal.Terminal
import com.github.ajalt.mordant.widgets.progress.completed
import com.github.ajalt.mordant.widgets.progress.progressBar
import com.github.ajalt.mordant.widgets.progress.progressBarContextLayout
import com.github.ajalt.mordant.widgets.progress.text
import com.github.ajalt.mordant.widgets.progress.timeRemaining
import java.util.Locale
import looplab.pipelines.metrics.EvalMetrics
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.metrics.meanByTask
import looplab.pipelines.plan.Format

/**
 * Shows training as it goes: an animated bar with step, loss and tokens/s on a terminal; on
 * anything else (CI logs, pipes) a plain line every twentieth of the stage, as nanoGPT prints.
 */
public class ProgressDisplay(private val terminal: Terminal) : TrainingListener {
    private val interactive = terminal.terminalInfo.outputInteractive
    private var bar: ThreadProgressTaskAnimator<String>? = null
    private var total = 0L
    private var printEvery = 1L

    override fun started(variant: String, stage: String, totalSteps: Long, startStep: Long) {
        total = totalSteps
        printEvery = (totalSteps / 20).coerceAtLeast(1)
        val resumed = if (startStep > 0) " (resumed at step $startStep)" else ""
        terminal.println("[$variant] $stage: $totalSteps steps$resumed")
        if (interactive) {
            bar =
                progressBarContextLayout<String> {
                        text { "[$variant] $stage" }
                        progressBar()
                        completed(suffix = " steps")
                        text { context }
                        timeRemaining()
                    }
                    .animateOnThread(
                        terminal,
                        context = "",
                        total = totalSteps,
                        completed = startStep,
                    )
                    .also { it.execute() }
        }
    }

    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
        val line =
            "loss %.4f | %s tok/s"
                .format(Locale.ROOT, metrics.loss, Format.count(metrics.tokensPerSecond))
        bar?.update {
            completed = metrics.step
            context = line
        }
        if (!interactive && (metrics.step % printEvery == 0L || metrics.step == 1L)) {
            terminal.println(
                "[%s] %s step %d/%d: loss %.4f, lr %.2e, grad norm %.2f, %s tok/s, %s"
                    .format(
                        Locale.ROOT,
                        metrics.variant,
                        metrics.stage,
                        metrics.step,
                        total,
                        metrics.loss,
                        metrics.lr,
                        metrics.gradNorm,
                        Format.count(metrics.tokensPerSecond),
                        Format.seconds(metrics.elapsedSeconds),
                    )
            )
        }
    }

    override fun evaluated(metrics: EvalMetrics) {
        val iid =
            metrics.accuracy.meanByTask("iid").entries.joinToString(" ") { (t, a) ->
                "$t ${Format.percent(a)}"
            }
        val ood =
            metrics.accuracy.meanByTask("ood").entries.joinToString(" ") { (t, a) ->
                "$t ${Format.percent(a)}"
            }
        val held =
            metrics.validationLoss?.let { "held-out loss %.4f; ".format(Locale.ROOT, it) } ?: ""
        bar?.let { terminal.println("") }
        val at = if (metrics.step > 0) " @ step ${metrics.step}" else ""
        val text =
            metrics.language?.let {
                "perplexity %.2f, %.3f bits/byte (gzip %.3f); "
                    .format(Locale.ROOT, it.perplexity, it.bitsPerByte, it.gzipBitsPerByte)
            } ?: ""
        val accuracy = if (metrics.accuracy.isEmpty()) "" else "accuracy iid: $iid | ood: $ood"
        terminal.println("[${metrics.variant}] ${metrics.stage}$at: $held$text$accuracy")
        metrics.notes.forEach { terminal.println("[${metrics.variant}] curriculum: $it") }
    }

    override fun finished(variant: String, stage: String) {
        bar?.stop()
        bar = null
    }
}
