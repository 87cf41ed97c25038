package looplab.pipelines.eval

import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.decode.Generator
import looplab.models.decode.SamplingConfig
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore

/**
 * Deterministic decoding for evaluation: every row takes its most likely next token until it emits
 * end-of-sequence or has produced [maxNewTokens]. It decodes with a cache ([Generator]) on the
 * run's [executor] (compiled on a GPU); prompts of a batch may differ in length. With [cached]
 * false it recomputes the whole sequence per token, the reference the cache is held to.
 */
public class GreedyDecoder
@JvmOverloads
constructor(
    model: LanguageModel,
    store: ParameterStore,
    backend: EagerBackend,
    private val eos: Int,
    executor: Executor = EagerExecutor(backend),
    private val cached: Boolean = true,
) : Completer {
    private val generator = Generator(model, store, executor, backend.manager)

    /** The tokens generated after each prompt, without the closing EOS. */
    override fun complete(prompts: List<IntArray>, maxNewTokens: Int): List<IntArray> {
        val config = SamplingConfig.greedy(maxNewTokens, eos)
        return if (cached) generator.generate(prompts, config)
        else generator.uncached(prompts, config)
    }
}
