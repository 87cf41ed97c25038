package looplab.pipelines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest
import looplab.dsl.AlgorithmicEvalSpec
import looplab.dsl.EvalSpec
import looplab.dsl.LoopEvalSpec
import looplab.dsl.PipelineSpec
import looplab.dsl.experiment
import looplab.pipelines.compare.Comparison
import looplab.pipelines.compare.ComparisonReport
import looplab.pipelines.compare.RunRecordException
import looplab.pipelines.compare.RunRecords
import looplab.pipelines.eval.EvalHub
import looplab.pipelines.eval.RunEvaluation
import looplab.pipelines.eval.Suite
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.RESULTS_SCHEMA
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.RunRecorder
import looplab.pipelines.run.Runner
import looplab.pipelines.run.SuiteResults

private fun sha256(file: Path) =
    MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)).joinToString("") {
        "%02x".format(it)
    }

class SeedsAndCompareSpec :
    FunSpec({
        test("seeds in the DSL: a count counts up from seed, a list is taken as given") {
            experiment("s") {
                    seed = 5
                    seeds = 3
                }
                .seeds shouldBe listOf(5L, 6L, 7L)
            experiment("s") { seeds(1, 9) }.seeds shouldBe listOf(1L, 9L)
            experiment("s") {}.seeds shouldBe emptyList()
        }

        test(
            "every variant trains per seed; results carry their metadata and round-trip; eval and compare read them"
        ) {
            val base = tinyExperiment(steps = 12, evalEvery = null)
            val spec =
                base.copy(
                    seeds = listOf(7L, 8L),
                    pipeline =
                        PipelineSpec(
                            listOf(
                                base.pipeline.stages[0],
                                EvalSpec(
                                    "eval",
                                    "pretrain",
                                    AlgorithmicEvalSpec(6, 8),
                                    loops = LoopEvalSpec(samples = 4, multiples = 2),
                                ),
                            )
                        ),
                )
            val result =
                Runner().run(spec, RunOptions(runsDir = Files.createTempDirectory("seeds")))
            result.succeeded shouldBe true
            result.seedRuns.map { it.dir.fileName.toString() } shouldBe listOf("seed-7", "seed-8")
            Files.readString(result.dir.resolve("plan.json")) shouldContain "\"seeds\""

            val seven = result.dir.resolve("seed-7")
            val file = seven.resolve("results_loops.json")
            val text = Files.readString(file)
            val loops = RunRecorder.pretty.decodeFromString(SuiteResults.serializer(), text)
            (RunRecorder.pretty.encodeToString(SuiteResults.serializer(), loops) + "\n") shouldBe
                text
            loops.metadata.schemaVersion shouldBe RESULTS_SCHEMA
            loops.metadata.suite shouldBe "loops"
            loops.metadata.seed shouldBe 7L
            loops.metadata.gridVersion shouldStartWith "looplab-loops-1-"
            loops.metadata.commit.isNotEmpty() shouldBe true
            loops.results.map { it.variant } shouldBe listOf("baseline", "shared_loop")
            for (entry in loops.results) entry.checkpoint shouldBe
                sha256(
                    Checkpoint(seven.resolve("checkpoints/${entry.variant}/pretrain"))
                        .latest()!!
                        .dir
                        .resolve("params.bin")
                )
            val curves = loops.results.single { it.variant == "shared_loop" }.loops!!
            curves.trainedLoops shouldBe 2
            curves.perLoop.map { it.loops } shouldBe listOf(1, 2)
            curves.earlyExit.map { it.loops } shouldBe listOf(1, 2)
            curves.extrapolation.map { it.loops } shouldBe listOf(2, 4)
            // A loop's readout is what a pass of that many loops gives; the trained depth is the
            // first extrapolation point.
            for (k in 0..1) curves.perLoop[k].iidLoss!! shouldBe
                (curves.earlyExit[k].iidLoss!! plusOrMinus 1e-5)
            curves.extrapolation[0].oodAccuracy shouldBe curves.perLoop[1].oodAccuracy
            // Per length, one 4-loop pass read out after every loop; its problems are the suite's,
            // so the lengths' mean at the trained depth is the readout's in-distribution accuracy.
            curves.byLength.map { "${it.task} ${it.length} ${it.ood}" } shouldBe
                (1..4).map { "parity $it false" } +
                    "parity 6 true" +
                    (1..3).map { "copy $it false" } +
                    "copy 5 true"
            for (c in curves.byLength) c.accuracy.size shouldBe 4
            val trainedIid = curves.byLength.filter { !it.ood }.map { it.accuracy[1] }.average()
            trainedIid shouldBe (curves.perLoop[1].iidAccuracy!! plusOrMinus 1e-9)
            curves.depthRules.map { it.task } shouldBe listOf("parity", "copy")
            for (rule in curves.depthRules) for (p in rule.points) p.accuracy shouldBe
                curves.byLength
                    .single { it.task == rule.task && it.length == p.length }
                    .accuracy
                    .getOrNull(p.loops - 1)
            Files.exists(seven.resolve("loops_shared_loop_eval.png")) shouldBe true
            EvalHub.read(seven, Suite.Algorithmic)!!.metadata.decoding!!.maxNewTokens shouldBe 8

            // looplab eval on the finished run: one suite, one variant, every seed; the other
            // variant's results stay.
            val report =
                RunEvaluation(log = {})
                    .evaluate(
                        result.dir,
                        listOf(Suite.LongCtx, Suite.Algorithmic),
                        variant = "baseline",
                    )
            report.written.map { it.fileName.toString() }.toSet() shouldBe
                setOf("results_longctx.json", "results_algorithmic.json")
            report.written.size shouldBe 4
            val needles = EvalHub.read(seven, Suite.LongCtx)!!
            // The tiny model's context is 16 tokens: every needle length is past it, and says so.
            needles.results.single().needles!!.cells.all {
                !it.withinContext && it.correct == null
            } shouldBe true
            EvalHub.read(seven, Suite.Algorithmic)!!.results.map { it.variant }.toSet() shouldBe
                setOf("baseline", "shared_loop")

            val comparison = Comparison.of(RunRecords.load(listOf(result.dir)))
            comparison.baseline shouldBe "baseline"
            comparison.rows.map { it.variant to it.seeds } shouldBe
                listOf("baseline" to listOf(7L, 8L), "shared_loop" to listOf(7L, 8L))
            comparison.rows[0].stats.getValue("timeRatio").mean shouldBe (1.0 plusOrMinus 1e-12)
            comparison.rows[1].stats.getValue("iid").n shouldBe 2
            comparison.rows[1].stats.keys shouldContainAll
                listOf(
                    "iid/parity",
                    "iid/copy",
                    "ood/parity/6",
                    "ood/copy/5",
                    "trainSeconds",
                    "timeRatio",
                )
            val verdict = comparison.verdicts.single()
            verdict.variant shouldBe "shared_loop"
            verdict.criteria.map { it.name } shouldBe
                listOf(Comparison.ACCURACY, Comparison.OOD, Comparison.TIME, Comparison.PERPLEXITY)
            verdict.criteria.last().met shouldBe null
            val markdown = ComparisonReport.markdown(comparison)
            markdown shouldContain "| shared_loop | eval | 2 |"
            markdown shouldContain "verdict"
            ComparisonReport.csv(comparison).lines().first() shouldBe
                "variant,stage,metric,seeds,mean,ci95_low,ci95_high"
            ComparisonReport.oodPlot(comparison).take(4) shouldBe
                listOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte())

            // Comparing a run with itself would count each seed twice: refused, as is a folder that
            // is no run.
            shouldThrow<RunRecordException> {
                    Comparison.of(RunRecords.load(listOf(result.dir, seven)))
                }
                .message!! shouldContain "appears twice"
            shouldThrow<RunRecordException> {
                    RunRecords.load(listOf(Files.createTempDirectory("empty")))
                }
                .message!! shouldContain "not a looplab run folder"
        }
    })
