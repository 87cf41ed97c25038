package looplab.models.decoder

import looplab.dsl.ModelSpec
import looplab.models.params.ParamScope
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor
import kotlin.math.sqrt

/** A pre-norm transformer block: `x + attn(norm(x))`, then `x + mlp(norm(x))`. */
internal class Block(scope: ParamScope, private val spec: ModelSpec) {
    // GPT-2 scales the residual projections by 1/√(2·depth) so the stream's variance stays put
    // however many layers (or loops) write into it.
    private val residualStd = spec.initStd / sqrt(2.0 * spec.effectiveDepth)
    private val attnNorm = scope.gain("attn_norm", spec.width)
    private val attn = Attention(scope.scope("attn"), spec.width, spec.heads, spec.initStd, residualStd, spec.ropeBase)
    private val mlpNorm = scope.gain("mlp_norm", spec.width)
    private val mlp = SwiGlu(scope.scope("mlp"), spec.width, spec.resolvedFfnHidden, spec.initStd, residualStd)

    fun apply(ops: Ops, p: Params, x: Tensor): Tensor = with(ops) {
        val h = x + attn.apply(ops, p, rmsNorm(x, p[attnNorm], spec.normEps))
        h + mlp.apply(ops, p, rmsNorm(h, p[mlpNorm], spec.normEps))
    }
}
