package looplab.pipelines.eval

import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore

/**
 * What evaluation needs from a decoder: the tokens generated after each prompt (equal lengths in
 * one call), without the closing end-of-sequence. Every suite decodes through this, so a faster
 * decoder replaces [Completers.greedy] in one place.
 */
public fun interface Completer {
    public fun complete(prompts: List<IntArray>, maxNewTokens: Int): List<IntArray>
}

/** The decoders evaluation uses. */
public object Completers {
    /**
     * Deterministic greedy decoding of [model] (temperature 0), KV-cached on [executor] (the run's
     * backend).
     */
    @JvmStatic
    @JvmOverloads
    public fun greedy(
        model: LanguageModel,
        store: ParameterStore,
        backend: EagerBackend,
        eos: Int,
        executor: Executor = EagerExecutor(backend),
    ): Completer = GreedyDecoder(model, store, backend, eos, executor)
}
