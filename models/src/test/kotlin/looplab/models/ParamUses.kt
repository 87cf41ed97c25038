package looplab.models

import looplab.models.eager.ParameterStore
import looplab.models.eager.array
import looplab.models.params.ParamRef
import looplab.models.params.Params

/** The training pass every check here runs (step 1: random depth draws its loops from it). */
private val trainingPass = Pass(training = true, step = 1, seed = 1)

/** The loss of [batch] under [trainingPass]. */
private fun trainingLoss(
    model: LanguageModel,
    ops: looplab.models.tensor.Ops,
    params: Params,
    batch: TestBatch,
) =
    model
        .loss(
            ops,
            params,
            ops.tokens(batch.inputs, batch.batch, batch.length),
            ops.tokens(batch.targets, batch.batch, batch.length),
            ops.floats(batch.mask, listOf(batch.batch, batch.length)),
            trainingPass,
        )
        .loss

/**
 * Gradients of the training loss of [batch] (the shared network), left on [store] and returned by
 * name.
 */
fun sharedGradients(
    model: LanguageModel,
    store: ParameterStore,
    batch: TestBatch,
): Map<String, FloatArray> {
    store.zeroGradients()
    testBackend.gradients().use { collector ->
        testBackend.scoped(store.values) { ops, _ ->
            collector.backward(trainingLoss(model, ops, store, batch).array)
        }
    }
    return store.gradients()
}

/**
 * How many times one forward pass reads each parameter: a training pass (loss, every loop) or an
 * inference pass (logits only, early exit taken). Model code reads a parameter once per use, so
 * this is an independent count of what the pass applies.
 */
fun parameterReads(
    model: LanguageModel,
    store: ParameterStore,
    batch: TestBatch,
    training: Boolean,
): Map<ParamRef, Int> {
    val reads = LinkedHashMap<ParamRef, Int>()
    val counting = Params { ref ->
        reads.merge(ref, 1, Int::plus)
        store[ref]
    }
    testBackend.scoped(store.values) { ops, _ ->
        if (training) trainingLoss(model, ops, counting, batch)
        else
            model.logits(
                ops,
                counting,
                ops.tokens(batch.inputs, batch.batch, batch.length),
                Pass.Inference,
            )
    }
    return reads
}

/**
 * The loss's gradient with every read of a parameter given its own copy (the same values): the
 * unshared network. Returns each copy's gradient by `name@use`, and the number of uses.
 */
fun perUseGradients(
    model: LanguageModel,
    store: ParameterStore,
    batch: TestBatch,
): Pair<Map<String, FloatArray>, Map<String, Int>> {
    val uses = parameterReads(model, store, batch, training = true)
    val registry = looplab.models.params.ParamRegistry()
    val scope = registry.scope("")
    val copies =
        uses.mapValues { (ref, n) ->
            List(n) { k -> scope.tensor("${ref.name}@$k", ref.shape, ref.init, ref.role) }
        }
    ParameterStore(registry, testBackend, seed = 0).use { unshared ->
        val values = store.snapshot()
        unshared.load(
            copies.values.flatten().associate {
                it.name to values.getValue(it.name.substringBefore('@'))
            }
        )
        val next = HashMap<ParamRef, Int>()
        val params = Params { ref ->
            unshared[copies.getValue(ref)[next.merge(ref, 1, Int::plus)!! - 1]]
        }
        testBackend.gradients().use { collector ->
            testBackend.scoped(unshared.values) { ops, _ ->
                collector.backward(trainingLoss(model, ops, params, batch).array)
            }
        }
        return unshared.gradients() to uses.entries.associate { it.key.name to it.value }
    }
}
