package looplab.pipelines.run

import looplab.curriculum.schedule.TaskCurriculum
import looplab.dsl.PretrainSpec
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.Planner
import looplab.pipelines.train.CheckpointTrigger
import looplab.pipelines.train.CurriculumBatches
import looplab.pipelines.train.Execution
import looplab.pipelines.train.LoopSettings
import looplab.pipelines.train.PeriodicEvaluation
import looplab.pipelines.train.StageBudget
import looplab.pipelines.train.TokenObjective
import looplab.pipelines.train.TrainingLoop

/**
 * Pretrains on the experiment's data, with the task curriculum if there is one: from the variant's
 * initial weights, or, with `from`, from the weights that stage produced, drawing the batches after
 * its last one.
 */
internal class PretrainRunner(private val stage: PretrainSpec, private val plannedSteps: Long) :
    StageRunner {
    override fun run(variant: VariantContext) =
        with(variant) {
            val experiment = plan.experiment
            when (val from = stage.from) {
                null -> loadInitialWeights()
                else -> loadWeightsOf(from)
            }
            val curriculum =
                experiment.data.curriculum?.tasks?.let {
                    TaskCurriculum.of(it, data.mixture!!.tasks)
                }
            val optimizer = Execution.optimizer(experiment, stage, store, backend)
            try {
                val trainingData =
                    data.trainingData(
                        experiment,
                        stage.batchSize,
                        firstBatch = firstBatch(stage, plan),
                    )
                val objective = TokenObjective(executor, model, store)
                val validation = trainingData.validationBatches()
                val periodicBudget = data.mixture?.let { Planner.decodingBudget(it) } ?: 0
                val evaluation =
                    PeriodicEvaluation(
                        spec.name,
                        stage.id,
                        stage.evalEvery?.steps,
                        validationLoss = { objective.loss(validation) },
                        accuracy = {
                            if (data.mixture == null) emptyList()
                            else
                                evaluator.evaluate(
                                    data.mixture.tasks,
                                    stage.evalSamples,
                                    periodicBudget,
                                )
                        },
                        language =
                            languageEvaluator?.let { e ->
                                { e.evaluate(PERIODIC_LANGUAGE_TOKENS) }
                            },
                        curriculum = curriculum,
                    )
                TrainingLoop(
                        LoopSettings(
                            spec.name,
                            stage.id,
                            StageBudget.of(stage.budget, plannedSteps),
                            stage.lr,
                            stage.clipNorm,
                            stage.logEvery.steps,
                            stage.microBatches,
                            experiment.seed,
                            stage.onNonFinite,
                        ),
                        optimizer,
                        objective,
                        CurriculumBatches(
                            trainingData,
                            curriculum,
                            stage.evalEvery?.steps,
                            producers,
                        ),
                        evaluation,
                        StageCheckpoint(checkpoint(stage.id), store, optimizer, curriculum, resume),
                        listeners,
                        Execution.lossScaler(experiment),
                        CheckpointTrigger(stage.checkpoint, stop),
                    )
                    .run()
            } finally {
                // The optimizer's state is the stage's own; the weights stay for the stages after
                // it.
                (optimizer as? AutoCloseable)?.close()
            }
            weightsOf = stage.id
        }

    /**
     * A stage that continues another draws its batches after that one's (and its ancestors') last
     * batch.
     */
    private fun firstBatch(stage: PretrainSpec, plan: Plan): Long {
        val from = stage.from ?: return 0
        val base = plan.experiment.pipeline.stages.first { it.id == from } as PretrainSpec
        return firstBatch(base, plan) + plan.stages.first { it.id == from }.steps!!
    }

    private companion object {
        /** Held-out tokens scored at each periodic evaluation (the eval stage sets its own). */
        const val PERIODIC_LANGUAGE_TOKENS = 16_384
    }
}
