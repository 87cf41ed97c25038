package looplab.pipelines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.nio.file.Files
import looplab.curriculum.data.Batcher
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.CharTokenizer
import looplab.dsl.AdamW
import looplab.dsl.Backend
import looplab.dsl.Lion
import looplab.dsl.Muon
import looplab.dsl.OptimizerSpec
import looplab.dsl.PretrainSpec
import looplab.dsl.SpecChecker
import looplab.models.Models
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.pipelines.metrics.TrainMetrics
import looplab.pipelines.metrics.TrainingListener
import looplab.pipelines.plan.Planner
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.StageCheckpoint
import looplab.pipelines.train.CurriculumBatches
import looplab.pipelines.train.Execution
import looplab.pipelines.train.LoopSettings
import looplab.pipelines.train.PeriodicEvaluation
import looplab.pipelines.train.StageBudget
import looplab.pipelines.train.TokenObjective
import looplab.pipelines.train.TrainingData
import looplab.pipelines.train.TrainingLoop

class TrainingSpec :
    FunSpec({
        val backend = EagerBackend()

        /**
         * Trains the baseline of [tinyExperiment] and returns the loss of every step and the final
         * weights.
         */
        fun train(
            seed: Long,
            steps: Int,
            crashAfter: Long? = null,
            checkpointDir: java.nio.file.Path = Files.createTempDirectory("ckpt"),
            resume: Boolean = false,
            optimizerSpec: OptimizerSpec = AdamW(),
            microBatches: Int = 1,
        ): Pair<List<Double>, Map<String, FloatArray>> {
            val plan = Planner().compile(tinyExperiment(steps = steps, evalEvery = 4, seed = seed))
            val spec = plan.experiment
            val model = Models.build(spec.models[0], plan.vocabSize)
            val store = ParameterStore(model.parameters, backend, spec.seed)
            val mixture =
                TaskMixture.resolve(
                    spec.data.algorithmic!!,
                    TaskRegistry(),
                    spec.seed,
                    SpecChecker(),
                )!!
            val stage = spec.pipeline.stages[0] as PretrainSpec
            val losses = mutableListOf<Double>()
            val listener =
                object : TrainingListener {
                    override fun stepped(metrics: TrainMetrics, logged: Boolean) {
                        losses += metrics.loss
                        if (metrics.step == crashAfter)
                            throw IllegalStateException("simulated crash")
                    }
                }
            val optimizer =
                Execution.optimizer(Backend.Eager, optimizerSpec, store, backend, stage.lr.peak)
            TrainingLoop(
                    LoopSettings(
                        "baseline",
                        stage.id,
                        StageBudget(plan.stages[0].steps!!),
                        stage.lr,
                        stage.clipNorm,
                        stage.logEvery.steps,
                        microBatches,
                    ),
                    optimizer,
                    TokenObjective(EagerExecutor(backend), model, store),
                    CurriculumBatches(
                        TrainingData(
                            mixture,
                            Batcher(CharTokenizer, spec.data.algorithmic!!.loss),
                            stage.batchSize,
                            spec.seed,
                        ),
                        null,
                        stage.evalEvery?.steps,
                    ),
                    PeriodicEvaluation(
                        "baseline",
                        stage.id,
                        stage.evalEvery?.steps,
                        validationLoss = { null },
                    ),
                    StageCheckpoint(
                        Checkpoint(checkpointDir.resolve("baseline")),
                        store,
                        optimizer,
                        resume = resume,
                    ),
                    listener,
                )
                .run()
            (optimizer as AutoCloseable).close()
            return losses to store.snapshot().also { store.close() }
        }

        test("the same seed gives the same first 10 losses; another seed does not") {
            val (first, _) = train(seed = 7, steps = 10)
            val (second, _) = train(seed = 7, steps = 10)
            first.size shouldBe 10
            second shouldBe first
            train(seed = 8, steps = 10).first shouldNotBe first
        }

        for (optimizer in listOf(AdamW(), Lion(), Muon())) {
            test(
                "a run resumed from its checkpoint continues exactly as if never interrupted (${optimizer::class.simpleName})"
            ) {
                val (straight, straightWeights) =
                    train(seed = 7, steps = 12, optimizerSpec = optimizer)
                val dir = Files.createTempDirectory("resume")
                // Checkpoints come at steps 4 and 8; the crash at step 10 loses steps 9 and 10,
                // which are redone.
                shouldThrow<IllegalStateException> {
                    train(
                        seed = 7,
                        steps = 12,
                        crashAfter = 10,
                        checkpointDir = dir,
                        optimizerSpec = optimizer,
                    )
                }
                val (resumed, resumedWeights) =
                    train(
                        seed = 7,
                        steps = 12,
                        checkpointDir = dir,
                        resume = true,
                        optimizerSpec = optimizer,
                    )
                resumed shouldBe straight.drop(8)
                resumedWeights.keys shouldBe straightWeights.keys
                for (name in straightWeights.keys) resumedWeights.getValue(name).toList() shouldBe
                    straightWeights.getValue(name).toList()
            }
        }

        // The first loss is the same computation; later ones move apart only by rounding, which
        // Adam's normalisation amplifies where gradients are near zero.
        test("the loop with 4 micro-batches follows one batch 4 times as large") {
            val (whole, _) = train(seed = 7, steps = 6)
            val (accumulated, _) = train(seed = 7, steps = 6, microBatches = 4)
            kotlin.math.abs(whole[0] - accumulated[0]) shouldBeLessThan 1e-6 * whole[0]
            for ((a, b) in whole.zip(accumulated)) kotlin.math.abs(a - b) shouldBeLessThan 1e-3 * a
        }
    })
