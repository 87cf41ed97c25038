package looplab.models

import looplab.dsl.ModelSpec
import looplab.dsl.Recursion
import looplab.dsl.validate
import looplab.models.eager.EagerBackend

/** Tiny shapes: the checks are about structure, not scale. */
fun tinySpec(blocks: Int = 2, loops: Int = 1, width: Int = 32, heads: Int = 4) =
    ModelSpec(
        name = "tiny",
        width = width,
        heads = heads,
        recursive = Recursion(blocks, loops),
        contextLength = 16,
        ffnHidden = 48,
    )

/** One backend for the whole test JVM: DJL allows one gradient collector per JVM, on one thread. */
val testBackend: EagerBackend by lazy { EagerBackend() }

/**
 * A tiny model built with the DSL: width 32, 4 heads, 2 layers, context 16, SwiGLU 48, then
 * [block].
 */
fun tinyModel(name: String = "tiny", block: looplab.dsl.ModelBuilder.() -> Unit = {}): ModelSpec =
    looplab.dsl
        .experiment("t") {
            model(name) {
                width = 32
                heads = 4
                layers = 2
                contextLength = 16
                ffnHidden = 48
                block()
            }
        }
        .models
        .single()

/** Structural errors of [spec] alone (what validation says about the model). */
fun modelErrors(spec: ModelSpec): List<String> =
    looplab.dsl
        .ExperimentSpec("t", models = listOf(spec))
        .validate()
        .filter { it.path.startsWith("model[") }
        .map { it.toString() }

/**
 * Gives every zero-initialised parameter (adapter B, carry output projections, gates' weights,
 * conditioning vectors) small random values, so that checks exercise the paths those parameters
 * switch off at initialisation.
 */
fun looplab.models.eager.ParameterStore.perturbZeros(seed: Int = 17, std: Double = 0.05) {
    val random = kotlin.random.Random(seed)
    val values = snapshot()
    load(
        registry.all.associate { ref ->
            val data = values.getValue(ref.name)
            val zero = ref.init == looplab.models.params.Init.Constant(0.0)
            ref.name to
                if (zero)
                    FloatArray(data.size) { (random.nextDouble(-1.0, 1.0) * std * 1.7).toFloat() }
                else data
        }
    )
}

/**
 * The last position's logits ([vocab] values) of [spec], freshly initialised with seed 3, on one
 * row of [tokens]: what the receptive-field checks compare between inputs.
 */
fun lastLogits(spec: ModelSpec, vocab: Int, tokens: IntArray): FloatArray {
    val model = Models.build(spec, vocab)
    return looplab.models.eager.ParameterStore(model.parameters, testBackend, seed = 3).use { store
        ->
        looplab.models.eager
            .EagerExecutor(testBackend)
            .run(store, train = false) { ops, params ->
                listOf(model.logits(ops, params, ops.tokens(tokens, 1, tokens.size)))
            }
            .single()
            .copyOfRange((tokens.size - 1) * vocab, tokens.size * vocab)
    }
}
