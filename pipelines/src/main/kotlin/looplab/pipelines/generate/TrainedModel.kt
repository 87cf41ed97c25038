package looplab.pipelines.generate

import java.nio.file.Files
import java.nio.file.Path
import looplab.curriculum.text.Tokenizer
import looplab.curriculum.text.TokenizerFactory
import looplab.dsl.Backend
import looplab.dsl.GrpoSpec
import looplab.dsl.ModelSpec
import looplab.dsl.PretrainSpec
import looplab.dsl.SftSpec
import looplab.dsl.SpecJson
import looplab.dsl.UserFacingError
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.Models
import looplab.models.decode.Generator
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.plan.Plan
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.RunDirectory
import looplab.pipelines.train.Execution

/**
 * A run folder, variant or stage that cannot be used for generation; the message says which and
 * why.
 */
public class GenerationInputException(message: String) :
    IllegalArgumentException(message), UserFacingError

/**
 * One trained variant of a run, ready to generate: its spec, tokenizer, model and weights (from a
 * stage's checkpoint), on the run's backend. Closing it frees the weights and compiled programs.
 */
public class TrainedModel
private constructor(
    public val spec: ModelSpec,
    public val tokenizer: Tokenizer,
    public val model: LanguageModel,
    public val store: ParameterStore,
    public val executor: Executor,
    /** The stage whose weights are loaded. */
    public val stage: String,
    private val backend: EagerBackend,
) : AutoCloseable {
    /** A [Generator] on this model's backend. */
    public fun generator(): Generator = Generator(model, store, executor, backend.manager)

    override fun close() {
        (executor as? AutoCloseable)?.close()
        store.close()
    }

    public companion object {
        /**
         * Loads [variant] (optional when the run has one) at [stage] (default: the last training
         * stage with a checkpoint) from the run folder [runDir], on [backend] with the run's
         * backend kind unless [kind] says otherwise.
         */
        @JvmStatic
        @JvmOverloads
        public fun load(
            runDir: Path,
            variant: String?,
            stage: String?,
            backend: EagerBackend,
            kind: Backend? = null,
        ): TrainedModel {
            val planFile = runDir.resolve("plan.json")
            if (!Files.isRegularFile(planFile))
                throw GenerationInputException(
                    "$runDir: no plan.json there, so it is not a looplab run folder"
                )
            val plan =
                try {
                    SpecJson.json.decodeFromString(Plan.serializer(), Files.readString(planFile))
                } catch (e: Exception) {
                    throw GenerationInputException(
                        "$planFile cannot be read: ${e.message?.lineSequence()?.first()}"
                    )
                }
            val experiment = plan.experiment
            val names = experiment.models.map { it.name }
            val spec =
                when {
                    variant != null ->
                        experiment.models.firstOrNull { it.name == variant }
                            ?: throw GenerationInputException(
                                "--variant $variant: the run has no such variant (it has ${names.joinToString()})"
                            )
                    experiment.models.size == 1 -> experiment.models.single()
                    else ->
                        throw GenerationInputException(
                            "the run has ${names.size} variants (${names.joinToString()}): choose one with --variant"
                        )
                }
            val dir = RunDirectory(runDir)
            // Every stage that leaves weights: SFT and GRPO checkpoints hold the merged model.
            val stages =
                experiment.pipeline.stages
                    .filter { it is PretrainSpec || it is SftSpec || it is GrpoSpec }
                    .map { it.id }
            val chosen =
                stage
                    ?: stages.lastOrNull { dir.checkpoint(spec.name, it).exists }
                    ?: throw GenerationInputException(
                        "variant ${spec.name} has no finished training stage in $runDir (stages: ${stages.joinToString()})"
                    )
            if (chosen !in stages)
                throw GenerationInputException(
                    "--stage $chosen: the run has no such training stage (it has ${stages.joinToString()})"
                )
            val checkpoint: Checkpoint = dir.checkpoint(spec.name, chosen)
            if (!checkpoint.exists)
                throw GenerationInputException(
                    "variant ${spec.name} has no checkpoint for stage $chosen in $runDir"
                )
            val tokenizer =
                TokenizerFactory.load(experiment.data.tokenizer, experiment.data.language)
            val model = Models.build(spec, plan.vocabSize)
            val store = ParameterStore(model.parameters, backend, experiment.seed)
            try {
                checkpoint.restoreWeights(store)
            } catch (e: RuntimeException) {
                store.close()
                throw e
            }
            val executor =
                Execution.executor(kind ?: experiment.backend, experiment.precision, backend)
            return TrainedModel(spec, tokenizer, model, store, executor, chosen, backend)
        }
    }
}
