package looplab.models.decode

import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * A language model that decodes incrementally: [prefill] runs the prompt once and fills a
 * [DecodeCache]; each [step] then computes one new token per row from the cache. The logits equal
 * those of a full recomputation of the whole sequence (a test holds every part of the zoo to it).
 */
public interface CachedDecoding {
    /** Stream positions the cache holds in front of the prompt (memory tokens); 0 for most. */
    public val memoryTokens: Int
        get() = 0

    /**
     * Logits [B, T, V] of [tokens] [B, T] (equal-length prompts), filling [cache] (a prefill
     * cache).
     */
    public fun prefill(ops: Ops, params: Params, tokens: Tensor, cache: DecodeCache): Tensor

    /** Logits [B, 1, V] of one token per row ([tokens] [B, 1]), at the positions [cache] names. */
    public fun step(ops: Ops, params: Params, tokens: Tensor, cache: DecodeCache): Tensor
}
