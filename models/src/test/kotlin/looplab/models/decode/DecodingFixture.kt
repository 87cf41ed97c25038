package looplab.models.decode

import looplab.dsl.ModelSpec
import looplab.dsl.Precision
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.Models
import looplab.models.compiled.CompiledExecutor
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.testBackend
import looplab.models.zoo

/**
 * What the decoding specs share: a vocabulary, both backends, the zoo on each, a model's set-up.
 */
internal object DecodingFixture {
    const val vocab = 23

    val backends: Map<String, Executor> =
        mapOf(
            "eager" to EagerExecutor(testBackend),
            "compiled" to CompiledExecutor(testBackend, Precision.Fp32),
        )

    /** "part, backend" → the zoo entry made fit for decoding, and the backend's executor. */
    val cases: Map<String, Pair<ModelSpec, Executor>> =
        zoo.flatMap { (name, spec) ->
                backends.map { (kind, executor) ->
                    "$name, $kind" to (spec.forDecoding() to executor)
                }
            }
            .toMap()

    /** Runs [block] with a generator over [spec]'s model, its weights seeded and perturbed. */
    fun setUp(
        spec: ModelSpec,
        executor: Executor,
        block: (Generator, LanguageModel, ParameterStore) -> Unit,
    ) {
        val model = Models.build(spec, vocab)
        ParameterStore(model.parameters, testBackend, seed = 7).use { store ->
            store.perturb(11)
            block(Generator(model, store, executor, testBackend.manager), model, store)
        }
    }
}
