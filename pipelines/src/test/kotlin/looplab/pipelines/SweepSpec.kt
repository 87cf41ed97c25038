package looplab.pipelines

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import com.github.ajalt.mordant.terminal.Terminal
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.File
import java.nio.file.Files
import kotlin.math.abs
import looplab.dsl.Size
import looplab.dsl.SlurmResources
import looplab.dsl.SpecJson
import looplab.dsl.SweepGrid
import looplab.pipelines.cli.ExampleCatalog
import looplab.pipelines.cli.LooplabCommand
import looplab.pipelines.cli.PlainCli
import looplab.pipelines.cli.SweepCommand
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import looplab.pipelines.sweep.SlurmExecutor
import looplab.pipelines.sweep.SweepCellException
import looplab.pipelines.sweep.SweepCells
import looplab.pipelines.sweep.SweepComparison
import looplab.pipelines.sweep.SweepFolder
import looplab.pipelines.sweep.SweepManifest

class SweepSpec :
    FunSpec({
        test("a cell narrows the experiment to one variant, its seed and its size") {
            val tiny = tinyExperiment()
            val cell = SweepCells.narrow(tiny, "shared_loop", seed = 3, size = Size.M125)
            cell.seed shouldBe 3
            cell.models.map { it.name } shouldBe listOf("shared_loop")
            val model = cell.models.single()
            listOf(model.width, model.heads, model.contextLength, model.vocabSize) shouldBe
                listOf(768, 12, 1024, 32_016)
            model.ffnHidden shouldBe null
            // A looped core keeps its blocks and loops; a plain stack takes the rung's depth.
            (model.recursive.blocks to model.recursive.loops) shouldBe (1 to 2)
            SweepCells.narrow(tiny, "baseline", size = Size.M125)
                .models
                .single()
                .recursive
                .blocks shouldBe 12
            SweepCells.narrow(tiny, "baseline").models.single() shouldBe tiny.models.first()

            val cells =
                SweepCells.expand(
                    tiny,
                    SweepGrid.parse("variant=shared_loop,baseline,seed=1..2,size=nano"),
                )
            cells.map { it.first.id } shouldContainExactly
                listOf(
                    "000-shared_loop-s1-nano",
                    "001-shared_loop-s2-nano",
                    "002-baseline-s1-nano",
                    "003-baseline-s2-nano",
                )
            shouldThrow<SweepCellException> {
                    SweepCells.expand(tiny, SweepGrid(variants = listOf("nope")))
                }
                .message shouldContain "does not declare: nope (it declares baseline, shared_loop)"
        }

        test("a cell is one run of its seed, also when the experiment lists seeds") {
            // relsm-nano declares seeds(1, 2, 3): before this, every cell ran all three.
            val listed = tinyExperiment().copy(seeds = listOf(1, 2, 3))
            val cells = SweepCells.expand(listed, SweepGrid.parse("variant=baseline,seed=2..3"))
            cells.map { (cell, spec) -> Triple(cell.seed, spec.seed, spec.seeds) } shouldBe
                listOf(Triple(2L, 2L, emptyList()), Triple(3L, 3L, emptyList()))
            // Without a seed axis the cells are the experiment's own seeds.
            SweepCells.expand(listed, SweepGrid.parse("variant=baseline")).map {
                it.first.seed
            } shouldBe listOf(1L, 2L, 3L)
        }

        test(
            "the array script asks for the resources and runs cell \$SLURM_ARRAY_TASK_ID; resubmissions name their cells"
        ) {
            val folder = SweepFolder(Files.createTempDirectory("script"))
            val cells =
                SweepCells.expand(tinyExperiment(), SweepGrid.parse("seed=1,2")).map { it.first }
            val manifest =
                SweepManifest(
                    "tiny",
                    "now",
                    grid = SweepGrid(),
                    executor = "slurm",
                    launcher = listOf("java", "-jar", "/opt/my looplab.jar"),
                    cells = cells,
                    slurm =
                        SlurmResources(
                            partition = "gpu",
                            account = "lab",
                            time = "2:00:00",
                            gpusPerTask = 1,
                            parallel = 2,
                        ),
                )
            val script = SlurmExecutor(folder).script(manifest).lines()
            script shouldContainAll
                listOf(
                    "#SBATCH --array=0-3%2",
                    "#SBATCH --gpus-per-task=1",
                    "#SBATCH --partition=gpu",
                    "#SBATCH --time=2:00:00",
                    "#SBATCH --account=lab",
                    "exec java -jar '/opt/my looplab.jar' sweep-cell ${folder.root.toAbsolutePath()} \"\$SLURM_ARRAY_TASK_ID\"",
                )
            SlurmExecutor.compress(listOf(5, 0, 1, 2, 7, 8)) shouldBe "0-2,5,7-8"
        }

        test(
            "a run interrupted after a checkpoint and resumed records the same summary as one run straight through"
        ) {
            val spec = tinyExperiment(steps = 20, evalEvery = 10)
            val straight =
                Runner(terminal = Terminal())
                    .run(spec, RunOptions(runsDir = Files.createTempDirectory("straight")))
                    .summary
            val dir = Files.createTempDirectory("interrupted").resolve("run")
            val interrupt =
                object : TrainingListener {
                    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
                        if (metrics.variant == "shared_loop" && metrics.step == 14L)
                            throw IllegalStateException("interrupted")
                    }
                }
            shouldThrow<IllegalStateException> {
                Runner(terminal = Terminal())
                    .run(spec, RunOptions(resume = dir, listeners = listOf(interrupt)))
            }
            val resumed = Runner(terminal = Terminal()).run(spec, RunOptions(resume = dir)).summary
            resumed.variants.map { it.status } shouldBe listOf("complete", "complete")
            for ((a, b) in straight.variants.zip(resumed.variants)) {
                val (x, y) = a.stages.getValue("pretrain") to b.stages.getValue("pretrain")
                withClue(a.name) {
                    listOf(x.steps, x.firstLoss, x.finalLoss, x.validationLoss) shouldBe
                        listOf(y.steps, y.firstLoss, y.finalLoss, y.validationLoss)
                    a.stages.getValue("eval").iidAccuracy shouldBe
                        b.stages.getValue("eval").iidAccuracy
                }
            }
        }

        test(
            "a sweep on the local executor runs every cell in its own process and gathers one table"
        ) {
            val dir = Files.createTempDirectory("sweep")
            val spec = tinyExperiment(steps = 12, evalEvery = 6)
            val json =
                dir.resolve("tiny.json").also { Files.writeString(it, SpecJson.encode(spec)) }
            val java = File(System.getProperty("java.home"), "bin/java").path
            val launcher =
                listOf(
                    java,
                    "-Xmx1g",
                    "-cp",
                    System.getProperty("java.class.path"),
                    PlainCli::class.java.name,
                )
            val catalog = ExampleCatalog { emptyList() }
            val result =
                LooplabCommand()
                    .subcommands(SweepCommand(catalog, launcher = { launcher }))
                    .test(
                        "sweep $json --grid variant=baseline,shared_loop,seed=1,2 --parallel 2 --out ${dir.resolve("sweeps")}"
                    )
            withClue(result.output) { result.statusCode shouldBe 0 }
            val folder = SweepFolder(Files.list(dir.resolve("sweeps/tiny")).toList().single())
            val results = SweepComparison.gather(folder)
            results.map { "${it.variant}/${it.seed}/${it.status}" } shouldBe
                listOf(
                    "baseline/1/complete",
                    "baseline/2/complete",
                    "shared_loop/1/complete",
                    "shared_loop/2/complete",
                )
            results.all {
                it.finalLoss?.isFinite() == true && it.validationLoss?.isFinite() == true
            } shouldBe true
            (results[0].finalLoss != results[1].finalLoss) shouldBe
                true // the seed reached the cell
            Files.readString(folder.root.resolve("comparison.txt")) shouldContain "Over seeds"
            result.output shouldContain "4 cells: 4 complete"

            // A cell is the narrowed experiment: running that in this process gives the cell's
            // numbers.
            val direct =
                Runner(terminal = Terminal())
                    .run(
                        SweepCells.narrow(spec, "shared_loop", seed = 2),
                        RunOptions(runsDir = dir.resolve("direct")),
                    )
            val stage = direct.summary.variants.single().stages.getValue("pretrain")
            val cell = results[3]
            for ((mine, theirs) in
                listOf(
                    stage.finalLoss to cell.finalLoss,
                    stage.validationLoss to cell.validationLoss,
                )) {
                withClue("$mine vs $theirs") {
                    (abs(mine!! - theirs!!) <= 1e-6 * abs(mine)) shouldBe true
                }
            }
        }
    })
