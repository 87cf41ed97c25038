package looplab.curriculum.data

/**
 * A padded batch for next-token prediction: [inputs] and [targets] are [batch] × [length] ids
 * (targets are inputs shifted by one); [mask] is 1 where a target carries loss, and 0 on padding
 * and on whatever the loss scope excludes.
 */
public class TokenBatch(
    public val inputs: IntArray,
    public val targets: IntArray,
    public val mask: FloatArray,
    public val batch: Int,
    public val length: Int,
    /** Input tokens that are not padding: what "tokens processed" counts. */
    public val tokens: Int,
)
