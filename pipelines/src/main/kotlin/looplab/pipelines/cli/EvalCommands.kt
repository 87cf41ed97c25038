package looplab.pipelines.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.CliktError
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.arguments.multiple
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.choice
import com.github.ajalt.clikt.parameters.types.path
import looplab.curriculum.tasks.TaskRegistry
import looplab.dsl.UserFacingError
import looplab.pipelines.compare.Comparison
import looplab.pipelines.compare.ComparisonReport
import looplab.pipelines.compare.RunRecords
import looplab.pipelines.eval.RunEvaluation
import looplab.pipelines.eval.Suite
import looplab.pipelines.run.RunDirectory

/** `looplab eval`: evaluation suites on a run's checkpoints. */
public class EvalCommand(private val catalog: ExampleCatalog) : CliktCommand(name = "eval") {
    override fun help(context: Context): String =
        "Measure a finished or running run's checkpoints with a suite (algorithmic, longctx, lm, loops, chat or all), writing results_<suite>.json into the run folder."

    private val runDir by
        argument(
                name = "run-dir",
                help = "A run folder (runs/<experiment>/<time>), or a folder of seed-*/ runs.",
            )
            .path()
    private val suite by
        option("--suite", help = "What to measure.")
            .choice(*Suite.entries.map { it.id }.toTypedArray(), "all")
            .default("all")
    private val variant by option("--variant", help = "Only this variant (default: all).")
    private val stage by
        option(
            "--stage",
            help =
                "The stage whose weights to measure, or an eval stage (its settings too); default: the last trained weights.",
        )

    override fun run(): Unit = reportingUserErrors {
        val suites = if (suite == "all") Suite.entries.toList() else listOf(Suite.of(suite)!!)
        // Tasks a built-in example defines of its own are known here; a script's tasks cannot be
        // re-created from the record.
        val tasks = catalog.examples().flatMap { it.tasks }.distinctBy { it.id }
        val report =
            RunEvaluation(TaskRegistry().plus(tasks), ::echo)
                .evaluate(runDir, suites, variant, stage)
        report.notes.forEach { echo(it) }
        report.written.forEach { echo("wrote $it") }
    }
}

/** `looplab compare`: means and 95% intervals over seeds, win criteria, markdown, CSV and PNG. */
public class CompareCommand : CliktCommand(name = "compare") {
    override fun help(context: Context): String =
        "Compare the variants (and eval stages) of one or more runs: mean ± 95% CI over seeds, seed 001's win criteria, compare.md, compare.csv and compare_ood.png."

    private val runDirs by
        argument(name = "run-dir", help = "Run folders (each a run, or a folder of seed-*/ runs).")
            .path()
            .multiple(required = true)
    private val baseline by
        option(
            "--baseline",
            help =
                "The variant the others are judged against (default: the one named baseline, else the first).",
        )
    private val out by
        option(
                "--out",
                help =
                    "Where compare.md, compare.csv and compare_ood.png go (default: the first run folder).",
            )
            .path()

    override fun run(): Unit = reportingUserErrors {
        val comparison = Comparison.of(RunRecords.load(runDirs), baseline)
        val dir = RunDirectory(out ?: runDirs.first())
        val markdown = ComparisonReport.markdown(comparison)
        dir.write("compare.md", markdown)
        dir.write("compare.csv", ComparisonReport.csv(comparison))
        dir.write("compare_ood.png", ComparisonReport.oodPlot(comparison))
        echo(markdown)
        echo("wrote ${dir.file("compare.md")}, compare.csv, compare_ood.png")
    }
}

private inline fun reportingUserErrors(block: () -> Unit) {
    try {
        block()
    } catch (e: RuntimeException) {
        throw if (e is UserFacingError) CliktError(e.message, statusCode = 2) else e
    }
}
