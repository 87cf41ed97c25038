package looplab.models.decode

import ai.djl.ndarray.NDManager
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.StatefulExecutor
import looplab.models.StatefulOutputs
import looplab.models.eager.ParameterStore
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * Generates continuations of a batch of prompts (of any lengths) with a decoding cache, on the
 * backend of [executor] (eager, or compiled: then a decoding step is one program call, the same
 * program for every step of a batch). Prompts of one length are prefilled together, their states
 * merged into one batch; from then on every row decodes at its own position and stops at its own
 * stop token. [uncached] is the reference: the whole sequence recomputed for every token.
 *
 * Used by evaluation (greedy exact match), `looplab generate` and `looplab chat`.
 */
public class Generator
@JvmOverloads
constructor(
    private val model: LanguageModel,
    private val store: ParameterStore,
    private val executor: Executor,
    /** Owns the decoding state's arrays (a sub-manager is made per generation). */
    private val manager: NDManager,
    /**
     * Greedy decoding and sampling from the whole softmax choose tokens on the device (false: on
     * the host from the step's logits, the same tokens; kept to measure the difference).
     */
    private val chooseOnDevice: Boolean = true,
) {
    private val cached =
        model as? CachedDecoding ?: error("${model::class.simpleName} cannot decode with a cache")
    private val stateful =
        executor as? StatefulExecutor
            ?: error("${executor::class.simpleName} cannot keep decoding state")
    private val vocab = model.vocabSize
    // Memory tokens sit before the prompt in the cache.
    private val memory = cached.memoryTokens

    /**
     * The tokens generated after each prompt (stop token excluded). [onToken] sees each new token
     * of each row as it is chosen (for streaming).
     */
    @JvmOverloads
    public fun generate(
        prompts: List<IntArray>,
        config: SamplingConfig,
        onToken: TokenListener? = null,
    ): List<IntArray> {
        require(prompts.isNotEmpty() && prompts.all { it.isNotEmpty() }) {
            "every prompt needs at least one token"
        }
        if (config.maxNewTokens == 0) return prompts.map { IntArray(0) }
        val longest = prompts.maxOf { it.size }
        val horizon = longest + config.maxNewTokens
        val capacity = roundUp(memory + horizon, CAPACITY_STEP)
        val rows = prompts.size
        val samplers = List(rows) { Sampler(config, it) }
        val seen = prompts.map { it.toMutableList() }
        val generated = List(rows) { mutableListOf<Int>() }
        val finished = BooleanArray(rows)
        // Plain greedy needs no logits on the host: the step program returns each row's argmax
        // (the same token: the same fp32 logits, the first maximum on ties), not B·V floats.
        val greedyOnDevice = chooseOnDevice && config.greedy && config.repetitionPenalty == 1.0
        // Likewise sampling from the whole softmax: the host sends one uniform per row (the one
        // its Sampler would draw) and gets the token back (GRPO samples this way: B × V logits
        // copied and scanned per token were most of a GRPO step on a GPU).
        val sampleOnDevice = chooseOnDevice && Sampler.drawsInIdOrder(config, vocab)
        val (first, state) = prefill(prompts, capacity, horizon)
        state.use {
            var logits = first
            var chosen: IntArray? = null
            val fed = IntArray(rows)
            for (step in 0 until config.maxNewTokens) {
                for (row in 0 until rows) {
                    if (finished[row]) continue
                    val token =
                        chosen?.get(row)
                            ?: samplers[row].next(logits, row * vocab, vocab, seen[row])
                    fed[row] = token
                    if (token in config.stopTokens) {
                        finished[row] = true
                    } else {
                        generated[row] += token
                        seen[row] += token
                        onToken?.token(row, token)
                    }
                }
                if (finished.all { it } || step == config.maxNewTokens - 1) break
                // A finished row keeps decoding its last token (the batch keeps its shape); its
                // output is closed.
                val positions = IntArray(rows) { prompts[it].size + step }
                if (greedyOnDevice) chosen = stepGreedy(state, fed, positions)
                else if (sampleOnDevice) {
                    val uniforms =
                        FloatArray(rows) { if (finished[it]) 0f else samplers[it].uniform() }
                    chosen = stepSample(state, fed, positions, uniforms, config.temperature)
                } else logits = step(state, fed, positions)
            }
        }
        return generated.map { it.toIntArray() }
    }

    /**
     * The prompts' last-position logits [B·V] and their decoding state, rows in the order given.
     */
    public fun prefill(
        prompts: List<IntArray>,
        capacity: Int,
        horizon: Int,
    ): Pair<FloatArray, DecodeState> {
        val groups = prompts.indices.groupBy { prompts[it].size }.values.toList()
        val logits = FloatArray(prompts.size * vocab)
        val parts =
            groups.map { group ->
                val length = prompts[group.first()].size
                val keep = manager.newSubManager()
                val cache = DecodeCache.prefill(capacity, horizon)
                val (host, arrays) =
                    stateful.runStateful(store, emptyList(), keep) { ops, params, _ ->
                        val flat =
                            IntArray(group.size * length) {
                                prompts[group[it / length]][it % length]
                            }
                        val all =
                            cached.prefill(ops, params, ops.tokens(flat, group.size, length), cache)
                        StatefulOutputs(
                            listOf(ops.slice(all, 1, length - 1, length)),
                            cache.outputs,
                        )
                    }
                group.forEachIndexed { i, row ->
                    host[0].copyInto(logits, row * vocab, i * vocab, (i + 1) * vocab)
                }
                DecodeState(cache.names, arrays, capacity, horizon, keep)
            }
        val where = HashMap<Int, Pair<Int, Int>>()
        groups.forEachIndexed { g, group -> group.forEachIndexed { i, row -> where[row] = g to i } }
        return logits to
            DecodeState.merge(
                parts,
                prompts.indices.map { where.getValue(it) },
                manager.newSubManager(),
            )
    }

    /**
     * Logits [B·V] of one more token per row, [tokens] at token [positions]; [state] moves on by
     * one.
     */
    public fun step(state: DecodeState, tokens: IntArray, positions: IntArray): FloatArray =
        step(state, tokens, positions) { _, logits -> logits }

    /**
     * The greedy next token of each row after [tokens] at [positions], chosen on the device;
     * [state] moves on by one.
     */
    public fun stepGreedy(state: DecodeState, tokens: IntArray, positions: IntArray): IntArray {
        val picked = step(state, tokens, positions) { ops, logits -> ops.argmax(logits, 2) }
        return IntArray(tokens.size) { picked[it].toInt() }
    }

    /**
     * The next token of each row after [tokens] at [positions], drawn on the device from the
     * tempered softmax with [uniforms] (one per row, see [Sampler.uniform]); [state] moves on by
     * one.
     */
    public fun stepSample(
        state: DecodeState,
        tokens: IntArray,
        positions: IntArray,
        uniforms: FloatArray,
        temperature: Double,
    ): IntArray {
        val picked =
            step(state, tokens, positions) { ops, logits ->
                ops.sampleInOrder(
                    logits,
                    ops.floats(uniforms, listOf(uniforms.size, 1)),
                    temperature,
                )
            }
        return IntArray(tokens.size) { picked[it].toInt() }
    }

    private fun step(
        state: DecodeState,
        tokens: IntArray,
        positions: IntArray,
        head: (Ops, Tensor) -> Tensor,
    ): FloatArray {
        val (host, arrays) =
            stateful.runStateful(store, state.arrays, state.manager) { ops, params, inputs ->
                val cache =
                    DecodeCache.step(state.capacity, state.horizon, positions, state.names, inputs)
                val logits = cached.step(ops, params, ops.tokens(tokens, tokens.size, 1), cache)
                StatefulOutputs(listOf(head(ops, logits)), cache.outputs)
            }
        state.replace(arrays)
        return host[0]
    }

    /**
     * The reference without a cache: every token recomputes the whole sequence (greedy or sampled
     * alike).
     */
    public fun uncached(prompts: List<IntArray>, config: SamplingConfig): List<IntArray> {
        val out = arrayOfNulls<IntArray>(prompts.size)
        // Rows of one prompt length stay of one length: each group decodes as a plain batch.
        prompts.indices
            .groupBy { prompts[it].size }
            .values
            .forEach { group ->
                val samplers = group.map { Sampler(config, it) }
                val sequences = group.map { prompts[it].toMutableList() }
                val generated = group.map { mutableListOf<Int>() }
                val finished = BooleanArray(group.size)
                for (step in 0 until config.maxNewTokens) {
                    val length = sequences[0].size
                    val flat = IntArray(group.size * length) { sequences[it / length][it % length] }
                    val last =
                        executor
                            .run(store, train = false) { ops, params ->
                                listOf(
                                    ops.slice(
                                        model.logits(
                                            ops,
                                            params,
                                            ops.tokens(flat, group.size, length),
                                        ),
                                        1,
                                        length - 1,
                                        length,
                                    )
                                )
                            }[0]
                    for (i in group.indices) {
                        if (finished[i]) continue
                        val token = samplers[i].next(last, i * vocab, vocab, sequences[i])
                        if (token in config.stopTokens) finished[i] = true
                        else generated[i] += token
                    }
                    if (finished.all { it }) break
                    for (i in group.indices) sequences[i] +=
                        if (finished[i]) sequences[i].last() else generated[i].last()
                }
                group.forEachIndexed { i, row -> out[row] = generated[i].toIntArray() }
            }
        return out.map { it!! }
    }

    /** Receives tokens as they are generated. */
    public fun interface TokenListener {
        public fun token(row: Int, token: Int)
    }

    private companion object {
        /**
         * Cache capacities are rounded up to a multiple of this, so a compiled backend reuses its
         * programs.
         */
        const val CAPACITY_STEP = 64

        fun roundUp(n: Int, step: Int) = (n + step - 1) / step * step
    }
}
