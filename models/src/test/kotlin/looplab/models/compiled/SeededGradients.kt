package looplab.models.compiled

import looplab.models.LanguageModel
import looplab.models.TestBatch
import looplab.models.backward
import looplab.models.eager.ParameterStore
import looplab.models.optim.Optimizer
import looplab.models.testBackend

/**
 * Five optimizer updates of [model] from identical seeded gradients: one backward pass creates the
 * gradient tensors, then every step writes seeded random values into them, so two optimizers see
 * identical inputs and any difference is the update arithmetic's own. The weights after the last
 * step and the gradient norm of each step.
 */
internal fun trainOnSeededGradients(
    model: LanguageModel,
    vocab: Int,
    make: (ParameterStore) -> Optimizer,
    clip: Double?,
): Pair<Map<String, FloatArray>, List<Double>> =
    ParameterStore(model.parameters, testBackend, seed = 4).use { store ->
        val optimizer = make(store)
        try {
            backward(model, store, TestBatch.random(vocab, batch = 2, length = 8))
            val norms =
                (0 until 5).map { step ->
                    val random = kotlin.random.Random(step)
                    for (ref in model.parameters.all) {
                        store.gradient(ref).use { g ->
                            g.set(
                                FloatArray(ref.size.toInt()) {
                                    (random.nextDouble(-1.0, 1.0) * 0.05).toFloat()
                                }
                            )
                        }
                    }
                    optimizer.step(lr = 1e-2 * (step + 1), clipNorm = clip)
                }
            store.snapshot() to norms
        } finally {
            (optimizer as? AutoCloseable)?.close()
        }
    }
