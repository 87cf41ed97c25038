package looplab.pipelines.plan

import java.util.Locale
import looplab.curriculum.data.TaskMixture
import looplab.dsl.AttentionMixer
import looplab.dsl.EmbeddingInit
import looplab.dsl.LearnedPositions
import looplab.dsl.ModelSpec
import looplab.dsl.NoPositions
import looplab.dsl.Rope
import looplab.dsl.SpecChecker
import looplab.dsl.SsmMixer
import looplab.models.cost.ModelCost

/**
 * What a plan says about each model beyond its shape: its parts in words, and the checks only a
 * plan can make.
 */
public object ModelParts {
    /** The model's parts in short phrases, in the order the forward pass meets them. */
    public fun describe(spec: ModelSpec): List<String> = buildList {
        val r = spec.recursive
        when (val p = spec.positions) {
            is Rope ->
                add(
                    "RoPE base ${number(p.base)}" +
                        if (p.ntk)
                            " (NTK-scaled for ${number(p.ntkFactor)} × context: base ${number(Math.rint(p.effectiveBase(spec.headSize)))} at every length)"
                        else ""
                )
            LearnedPositions -> add("learned absolute positions (${spec.contextLength})")
            NoPositions -> add("no positions (NoPE)")
        }
        spec.attentionWindow?.let { add("sliding-window attention ($it positions)") }
        spec.kvHeads?.takeIf { it != spec.heads }?.let { add("GQA ${spec.heads}q/${it}kv") }
        if (spec.embedding.init == EmbeddingInit.Spectral) add("spectral embedding init")
        if (!spec.embedding.tied) add("untied head")
        if (spec.embedding.valueEmbeddings) add("value embeddings")
        spec.embedding.refine?.let {
            add("embeddings refined by ${it.cycles} causal conv cycles (kernel ${it.kernel})")
        }
        spec.memory?.let { add("${it.tokens} memory tokens in front") }
        if (spec.prelude > 0) add("prelude ${spec.prelude}")
        when (val m = r.mixer) {
            AttentionMixer -> Unit
            is SsmMixer ->
                add(
                    "Mamba-2 SSD mixer (state ${m.state}, head ${m.headSize}, expand ${m.expand}, chunk ${m.chunk})" +
                        if (m.attention) " + attention" else ""
                )
        }
        r.keyRank?.let { add("keys rank $it") }
        r.conv?.let { add("causal FFN conv (kernel ${it.kernel}, dilation ${it.dilation})") }
        r.trm?.let { add("FFN as ${it.cycles} TRM cycles per block and loop") }
        r.moe?.let { m ->
            val capacity =
                m.capacityFactor?.let { "capacity ${number(it)} in groups of ${m.group}" }
                    ?: "dropless"
            add(
                "MoE ${m.experts} experts (${m.shared} shared), top-${m.topK}, hidden ${m.resolvedHidden(spec.width)}, " +
                    (if (m.loopAware) "loop-aware " else "") +
                    "sigmoid router, z-loss ${number(m.zLossWeight)}, $capacity" +
                    if (m.keepDense) ", beside the dense FFN" else ", instead of the dense FFN"
            )
        }
        if (r.inject) add("input injection")
        r.adapters?.let { add("rank-${it.rank} adapters per (block, loop)") }
        if (r.passControls) add("per-pass controls")
        if (r.skips) add("U-Net skips across passes")
        if (r.exitGate) add("per-token exit gate per pass")
        r.tdCarry?.let { add("rank-${it.rank} temporal-difference carry") }
        r.gruCarry?.let { add("rank-${it.rank} GRU state carry") }
        if (r.confidence) add("confidence conditioning (previous exit gate)")
        if (r.interLoopNorm) add("inter-loop RMSNorm")
        r.randomDepth?.let {
            add(
                "random depth ${it.min}..${it.max ?: r.loops}" +
                    (it.backprop?.let { k -> ", backprop through the last $k" } ?: "")
            )
        }
        r.loopLoss?.let { add("per-loop loss (weight ${number(it.weight)})") }
        spec.act?.let {
            add(
                "ACT (threshold ${number(it.threshold)}, ponder ${number(it.ponderWeight)}; active counts are for every loop, act.loops measures the mean)"
            )
        }
        if (spec.auxHeads.isNotEmpty())
            add(
                "aux heads at loops ${spec.auxHeads.joinToString { "${it.loop} (${number(it.weight)})" }}"
            )
        spec.earlyExit?.let { add("early exit at loop ${it.loop}") }
        if (spec.coda > 0) add("coda ${spec.coda}")
        spec.latent?.let {
            add("latent: ${it.thoughts} thought slots per position, ${it.refinements} refinements")
        }
        if (r.telemetry && r.loops > 1) add("loop-RMS telemetry")
    }

    /** The plan of one model: shape, parts and costs. */
    public fun plan(model: ModelSpec, tokenizerVocab: Int): ModelPlan {
        val cost = ModelCost.of(model, tokenizerVocab)
        return ModelPlan(
            name = model.name,
            width = model.width,
            heads = model.heads,
            headSize = model.headSize,
            ffnHidden = model.resolvedFfnHidden,
            blocks = model.recursive.blocks,
            loops = model.recursive.loops,
            effectiveDepth = model.effectiveDepth,
            contextLength = model.contextLength,
            physicalParams = cost.physicalParams,
            effectiveParams = cost.effectiveParams,
            forwardFlopsPerToken = cost.forwardFlopsPerToken,
            trainingFlopsPerToken = cost.trainingFlopsPerToken,
            kvHeads = model.resolvedKvHeads,
            vocabRows = cost.vocabRows,
            parts = describe(model),
            activeParams = cost.activeParams,
            activeEffectiveParams = cost.activeEffectiveParams,
            activeLoops = cost.activeLoops,
        )
    }

    /**
     * What the spec alone cannot check: a vocabulary override must hold the tokenizer's tokens, and
     * a learned position table must cover the longest sequence evaluation will read.
     */
    public fun check(
        model: ModelSpec,
        tokenizerVocab: Int,
        mixture: TaskMixture?,
        maxNewTokens: Int,
        check: SpecChecker,
    ) {
        model.vocabSize?.let { rows ->
            check.require("vocabSize", rows >= tokenizerVocab) {
                "must be ≥ the tokenizer's vocabulary ($tokenizerVocab), was $rows"
            }
        }
        if (model.positions == LearnedPositions && mixture != null) {
            val longest = mixture.maxPromptChars() + maxNewTokens
            check.require("contextLength", longest <= model.contextLength) {
                "learned positions cover ${model.contextLength} positions, but evaluation reads up to $longest tokens; " +
                    "raise contextLength (rows past the training lengths stay untrained, which is what the control tests)"
            }
        }
    }

    private fun number(x: Double): String =
        if (x == Math.rint(x) && kotlin.math.abs(x) < 1e9) "%d".format(Locale.ROOT, x.toLong())
        else "%s".format(Locale.ROOT, x)
}
