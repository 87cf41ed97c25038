package looplab.dsl

/**
 * Every structural error of one model, each at its path under [check] (`model[name]`). Parts that
 * contradict each other are reported at the part that makes the combination impossible, saying why.
 */
internal fun validateModel(model: ModelSpec, check: SpecChecker) {
    check.atLeast("width", model.width, 1)
    // Upper bounds keep every count of the plan (parameters, FLOPs, memory) inside a Long.
    check.atMost("width", model.width, MAX_WIDTH)
    check.atLeast("heads", model.heads, 1)
    val headsDivide = model.width >= 1 && model.heads >= 1 && model.width % model.heads == 0
    if (model.width >= 1 && model.heads >= 1) {
        check.require("heads", headsDivide) {
            "must divide width ${model.width}, was ${model.heads}"
        }
    }
    if (headsDivide && model.positions is Rope) {
        check.require("heads", model.headSize % 2 == 0) {
            "head size width/heads = ${model.headSize} must be even for RoPE"
        }
    }
    model.kvHeads?.let { kv ->
        check.atLeast("kvHeads", kv, 1)
        if (kv >= 1 && model.heads >= 1) {
            check.require("kvHeads", model.heads % kv == 0) {
                "must divide heads ${model.heads} (each key/value head serves a group of query heads), was $kv"
            }
        }
    }
    model.vocabSize?.let {
        check.atLeast("vocabSize", it, 2)
        check.atMost("vocabSize", it, MAX_VOCAB)
    }
    check.atLeast("contextLength", model.contextLength, 2)
    check.atMost("contextLength", model.contextLength, MAX_CONTEXT)
    model.ffnHidden?.let {
        check.atLeast("ffnHidden", it, 1)
        check.atMost("ffnHidden", it, MAX_FFN)
    }
    check.require("normEps", model.normEps > 0.0) { "must be > 0, was ${model.normEps}" }
    check.require("initStd", model.initStd > 0.0) { "must be > 0, was ${model.initStd}" }
    when (val positions = model.positions) {
        is Rope -> {
            check.at("positions").require("base", positions.base > 1.0) {
                "must be > 1, was ${positions.base}"
            }
            check.at("positions").require(
                "ntkFactor",
                positions.ntkFactor >= 1.0 && positions.ntkFactor.isFinite(),
            ) {
                "must be ≥ 1, was ${positions.ntkFactor}"
            }
        }
        LearnedPositions,
        NoPositions -> Unit
    }
    model.attentionWindow?.let { window ->
        check.atLeast("attentionWindow", window, 1)
        check.require("attentionWindow", model.windowConflict() == null) {
            "cannot be set: the model ${model.windowConflict()}"
        }
    }
    check.atLeast("prelude", model.prelude, 0)
    check.atLeast("coda", model.coda, 0)
    check.atMost("prelude", model.prelude, MAX_DEPTH)
    check.atMost("coda", model.coda, MAX_DEPTH)
    validateEmbedding(model, check.at("embedding"))
    validateRecursion(model, check.at("recursive"))
    validateModelParts(model, check)
}

private fun validateEmbedding(model: ModelSpec, check: SpecChecker) {
    model.embedding.refine?.let { refine ->
        val at = check.at("refine")
        at.atLeast("cycles", refine.cycles, 1)
        at.atLeast("kernel", refine.kernel, 1)
        at.atLeast("dilation", refine.dilation, 1)
    }
    val mixer = model.recursive.mixer
    if (model.embedding.valueEmbeddings && !mixer.hasAttention) {
        check.require("valueEmbeddings", false) {
            "value embeddings are added to attention values, but the ssm mixer has no attention (use ssm(attention = true))"
        }
    }
}

private fun validateRecursion(model: ModelSpec, check: SpecChecker) {
    val r = model.recursive
    check.atLeast("blocks", r.blocks, 1)
    check.atLeast("loops", r.loops, 1)
    check.atMost("blocks", r.blocks, MAX_DEPTH)
    check.atMost("loops", r.loops, MAX_DEPTH)
    val looped = r.loops >= 2
    fun needsLoops(field: String, what: String) =
        check.require(field, looped) { "$what needs loops ≥ 2, was ${r.loops}" }

    when (val mixer = r.mixer) {
        AttentionMixer -> Unit
        is SsmMixer -> {
            val at = check.at("mixer")
            at.atLeast("state", mixer.state, 1)
            at.atLeast("headSize", mixer.headSize, 1)
            at.atLeast("expand", mixer.expand, 1)
            at.atLeast("convKernel", mixer.convKernel, 1)
            at.atLeast("chunk", mixer.chunk, 1)
            if (mixer.headSize >= 1 && mixer.expand >= 1) {
                at.require("headSize", (mixer.expand * model.width) % mixer.headSize == 0) {
                    "must divide the inner width expand·width = ${mixer.expand * model.width}, was ${mixer.headSize}"
                }
            }
        }
    }
    r.keyRank?.let { rank ->
        check.atLeast("keyRank", rank, 1)
        check.require("keyRank", r.mixer.hasAttention) {
            "low-rank keys need attention, but the ssm mixer has none (use ssm(attention = true))"
        }
    }
    r.conv?.let { conv ->
        check.at("conv").atLeast("kernel", conv.kernel, 1)
        check.at("conv").atLeast("dilation", conv.dilation, 1)
    }
    r.moe?.let { validateMoe(it, check.at("moe")) }
    r.trm?.let { trm ->
        check.at("trm").atLeast("cycles", trm.cycles, 1)
        check.require("trm", r.moe == null) {
            "TRM cycles run the dense FFN as a recurrence; cycling a mixture of experts (and its routing) is not defined, drop moe or trm"
        }
    }
    r.tdCarry?.let {
        validateCarry(it, check.at("tdCarry"))
        needsLoops("tdCarry", "a carry between passes")
    }
    r.gruCarry?.let {
        validateCarry(it, check.at("gruCarry"))
        needsLoops("gruCarry", "a carry between passes")
    }
    if (r.confidence) {
        needsLoops("confidence", "conditioning on the previous pass")
        check.require("confidence", r.exitGate) {
            "confidence conditioning reads the previous pass's exit gate: add exitGate()"
        }
    }
    r.adapters?.let { adapters ->
        check.at("adapters").atLeast("rank", adapters.rank, 1)
        check.at("adapters").require("scale", adapters.scale.isFinite()) {
            "must be finite, was ${adapters.scale}"
        }
        check.at("adapters").require("std", adapters.std >= 0.0) {
            "must be ≥ 0, was ${adapters.std}"
        }
    }
    if (r.inject) needsLoops("inject", "re-injecting the embedding")
    if (r.interLoopNorm) needsLoops("interLoopNorm", "a norm between loops")
    if (r.skips) needsLoops("skips", "U-Net skips across passes")
    r.randomDepth?.let { depth ->
        val at = check.at("randomDepth")
        val max = depth.max ?: r.loops
        at.atLeast("min", depth.min, 1)
        if (depth.min >= 1) {
            at.require("min", depth.min < max) {
                "must be < ${if (depth.max == null) "loops (${r.loops})" else "max ($max)"} for the depth to vary, was ${depth.min}"
            }
        }
        if (max > r.loops) {
            val perLoop = r.perLoopParts
            at.require("max", perLoop.isEmpty()) {
                "$max is more than the model's ${r.loops} loops, and ${perLoop.joinToString()} exist once per loop"
            }
        }
        depth.backprop?.let { k ->
            at.atLeast("backprop", k, 1)
            // State that crosses the boundary besides the stream would keep a gradient path into
            // the loops before it, and a head at a fixed loop would train only on some steps.
            val across =
                listOfNotNull(
                    "tdCarry".takeIf { r.tdCarry != null },
                    "gruCarry".takeIf { r.gruCarry != null },
                    "confidence".takeIf { r.confidence },
                    "skips".takeIf { r.skips },
                    "auxHeads".takeIf { model.auxHeads.isNotEmpty() },
                )
            at.require("backprop", across.isEmpty()) {
                "truncated backpropagation cannot combine with ${across.joinToString()}: they reach across the loops it cuts off"
            }
        }
    }
    r.loopLoss?.let { loss ->
        check.at("loopLoss").require("weight", loss.weight > 0.0 && loss.weight.isFinite()) {
            "must be > 0, was ${loss.weight}"
        }
        needsLoops("loopLoss", "a loss at every loop but the last")
    }
}

private fun validateCarry(carry: LowRankCarry, check: SpecChecker) {
    check.atLeast("rank", carry.rank, 1)
    check.require("std", carry.std >= 0.0 && carry.std.isFinite()) {
        "must be ≥ 0, was ${carry.std}"
    }
}

private fun validateMoe(moe: Moe, check: SpecChecker) {
    check.atLeast("experts", moe.experts, 1)
    check.atLeast("shared", moe.shared, 0)
    if (moe.experts >= 1 && moe.shared >= 0) {
        check.require("shared", moe.shared < moe.experts) {
            "must be < experts (${moe.experts}) so that some experts are routed, was ${moe.shared}"
        }
    }
    check.atLeast("topK", moe.topK, 1)
    if (moe.topK > moe.experts) {
        check.require("topK", false) { "must be ≤ experts (${moe.experts}), was ${moe.topK}" }
    } else if (moe.shared in 0 until moe.experts && moe.topK > moe.routed) {
        check.require("topK", false) {
            "must be ≤ the routed experts (${moe.routed} = ${moe.experts} experts - ${moe.shared} shared), was ${moe.topK}"
        }
    }
    moe.hidden?.let { check.atLeast("hidden", it, 1) }
    check.require("zLossWeight", moe.zLossWeight >= 0.0 && moe.zLossWeight.isFinite()) {
        "must be ≥ 0, was ${moe.zLossWeight}"
    }
    moe.capacityFactor?.let {
        check.require("capacityFactor", it > 0.0 && it.isFinite()) {
            "must be > 0 (or null: no token dropped), was $it"
        }
    }
    check.atLeast("group", moe.group, 1)
}

private fun validateModelParts(model: ModelSpec, check: SpecChecker) {
    val r = model.recursive
    model.latent?.let { latent ->
        check.at("latent").atLeast("thoughts", latent.thoughts, 1)
        check.at("latent").atLeast("refinements", latent.refinements, 1)
    }
    model.memory?.let { check.at("memory").atLeast("tokens", it.tokens, 1) }
    model.act?.let { act ->
        val at = check.at("act")
        at.require("threshold", act.threshold > 0.0 && act.threshold <= 1.0) {
            "must be within (0, 1], was ${act.threshold}"
        }
        at.require("ponderWeight", act.ponderWeight >= 0.0 && act.ponderWeight.isFinite()) {
            "must be ≥ 0, was ${act.ponderWeight}"
        }
        at.require("", r.loops >= 2) {
            "adaptive halting needs recursive.loops ≥ 2 to choose from, was ${r.loops}"
        }
        at.require("", r.randomDepth == null) {
            "cannot combine with recursive.randomDepth: halting already decides the depth per position"
        }
        at.require("", !r.exitGate) {
            "cannot combine with recursive.exitGate: both decide per token how much of each pass counts"
        }
        at.require("", model.earlyExit == null) {
            "cannot combine with earlyExit: halting already stops each position when it is done"
        }
    }
    model.auxHeads.forEachIndexed { i, head ->
        val at = check.at("auxHeads[$i]")
        at.atLeast("loop", head.loop, 1)
        if (head.loop > r.loops) {
            at.require("loop", false) { "must be ≤ recursive.loops (${r.loops}), was ${head.loop}" }
        } else if (head.loop == r.loops && r.loops >= 1) {
            at.require("loop", false) {
                "is the last loop, which the final head already supervises"
            }
        }
        r.randomDepth?.let { depth ->
            at.require("loop", head.loop <= depth.min) {
                "loop ${head.loop} is beyond the fewest loops (${depth.min}) that randomDepth may draw; its head would train only sometimes"
            }
        }
        at.require("weight", head.weight > 0.0 && head.weight.isFinite()) {
            "must be > 0, was ${head.weight}"
        }
    }
    model.auxHeads
        .groupBy { it.loop }
        .filter { it.value.size > 1 }
        .keys
        .forEach { loop ->
            check.require("auxHeads", false) { "two heads at loop $loop; give each loop one head" }
        }
    model.earlyExit?.let { exit ->
        val at = check.at("earlyExit")
        at.atLeast("loop", exit.loop, 1)
        at.require("loop", exit.loop <= r.loops) {
            "must be ≤ recursive.loops (${r.loops}), was ${exit.loop}"
        }
    }
}

private const val MAX_WIDTH = 65_536
private const val MAX_FFN = 1_048_576
private const val MAX_CONTEXT = 1_048_576
private const val MAX_VOCAB = 16_777_216
private const val MAX_DEPTH = 4_096

/**
 * Why a sliding attention window cannot apply to this model, or null if it can: the window counts
 * token positions, which memory tokens and latent thoughts would shift or bypass.
 */
internal fun ModelSpec.windowConflict(): String? =
    when {
        !recursive.mixer.hasAttention ->
            "mixes tokens with an SSM alone, with no attention to window"
        memory != null -> "has memory tokens, which would fall out of the window"
        latent != null -> "has latent thoughts, which attend across the whole row"
        else -> null
    }
