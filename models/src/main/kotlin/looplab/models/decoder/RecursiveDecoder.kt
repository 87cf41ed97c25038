package looplab.models.decoder

import looplab.dsl.ModelSpec
import looplab.models.LanguageModel
import looplab.models.Pass
import looplab.models.params.ParamRegistry
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * The decoder of every plain and recursive variant: token embedding, `blocks` unique blocks applied
 * in order and the whole stack repeated `loops` times with the same weights, a final RMSNorm and an
 * LM head tied to the embedding. `recursive(blocks = L, loops = 1)` is the standard transformer.
 */
public class RecursiveDecoder(public val spec: ModelSpec, override val vocabSize: Int) : LanguageModel {
    override val parameters: ParamRegistry = ParamRegistry()
    private val root = parameters.scope("")
    private val embedding = root.table("embed", vocabSize, spec.width, spec.initStd)
    private val blocks = List(spec.recursive.blocks) { Block(root.scope("blocks.$it"), spec) }
    private val finalNorm = root.gain("final_norm", spec.width)

    override fun logits(ops: Ops, params: Params, tokens: Tensor, pass: Pass): Tensor = with(ops) {
        var h = embedding(tokens, params[embedding])
        repeat(spec.recursive.loops) {
            for (block in blocks) h = block.apply(ops, params, h)
        }
        linear(rmsNorm(h, params[finalNorm], spec.normEps), transpose(params[embedding], 0, 1))
    }
}
