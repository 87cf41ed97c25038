package looplab.models.adapters

import looplab.dsl.HraSpec
import looplab.dsl.ParamRole
import looplab.models.AdaptiveInference
import looplab.models.LanguageModel
import looplab.models.ModelOutput
import looplab.models.PackedSequences
import looplab.models.Pass
import looplab.models.decode.CachedDecoding
import looplab.models.decode.DecodeCache
import looplab.models.params.ParamRef
import looplab.models.params.ParamRegistry
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/** The two factors of one adapted matrix W ([in, out]): A ([in, rank]) and B ([rank, out]). */
public class HraPair(public val weight: ParamRef, public val a: ParamRef, public val b: ParamRef)

/**
 * [base] with HRA adapters around the linear layers [spec] targets: each computes `x·W + x·A·B`,
 * with B zero at the start, so the adapted model starts exactly as the base.
 *
 * The adapter is applied on the weight side, `x·(W + A·B)`, which equals `x·W + x·A·B` by linearity
 * (in value and in every gradient) and needs no change to the model's code: the base reads its
 * weights through [Params], and this model hands it `W + A·B` for the adapted ones. It costs
 * in·rank·out multiply-adds per matrix per pass instead of tokens·rank·(in + out), which is less
 * whenever a pass holds more than in·out/(in + out) tokens (384 for 768×768), i.e. in training. A
 * weight used by several loops is adapted once per pass.
 *
 * Parameters: the base's, by the same names, then `<weight>.hra_a` and `<weight>.hra_b` for each
 * adapted weight. [adapterParameters] are the ones that learn at `lrMultiplier` times the rate (and
 * alone when `freezeBase`).
 */
public class HraModel(public val base: LanguageModel, public val spec: HraSpec) :
    LanguageModel, AdaptiveInference, PackedSequences, CachedDecoding {
    override val vocabSize: Int
        get() = base.vocabSize

    override val parameters: ParamRegistry = ParamRegistry()

    /** The adapted weights with their factors, in the base's declaration order. */
    public val pairs: List<HraPair>
    private val byWeight: Map<ParamRef, HraPair>

    init {
        base.parameters.all.forEach(parameters::declare)
        val targets =
            base.parameters.all.filter { ref ->
                ref.shape.size == 2 && spec.targets.any { ref.name.endsWith(".${it.leaf}") }
            }
        val missing = spec.targets.filter { t -> targets.none { it.name.endsWith(".${t.leaf}") } }
        require(missing.isEmpty()) {
            "the model has no ${missing.joinToString { it.leaf }} weights to adapt"
        }
        val root = parameters.scope("")
        pairs =
            targets.map { w ->
                val (inputs, outputs) = w.shape
                require(spec.rank <= minOf(inputs, outputs)) {
                    "rank ${spec.rank} exceeds ${w.name}'s ${inputs}×$outputs"
                }
                HraPair(
                    w,
                    root.matrix(
                        "${w.name}.hra_a",
                        inputs,
                        spec.rank,
                        spec.initStd,
                        ParamRole.Adapter,
                    ),
                    root.zeros("${w.name}.hra_b", listOf(spec.rank, outputs), ParamRole.Adapter),
                )
            }
        byWeight = pairs.associateBy { it.weight }
    }

    /** The adapters' parameters (A and B of every pair). */
    public val adapterParameters: List<ParamRef>
        get() = pairs.flatMap { listOf(it.a, it.b) }

    /** The base model's parameters. */
    public val baseParameters: List<ParamRef>
        get() = base.parameters.all

    override fun logits(ops: Ops, params: Params, tokens: Tensor, pass: Pass): Tensor =
        base.logits(ops, adapted(ops, params), tokens, pass)

    override fun loss(
        ops: Ops,
        params: Params,
        inputs: Tensor,
        targets: Tensor,
        mask: Tensor,
        pass: Pass,
    ): ModelOutput = base.loss(ops, adapted(ops, params), inputs, targets, mask, pass)

    override fun adaptiveLogits(
        ops: Ops,
        params: Params,
        tokens: Tensor,
        read: (Tensor) -> Double,
    ): Tensor =
        (base as? AdaptiveInference)?.adaptiveLogits(ops, adapted(ops, params), tokens, read)
            ?: logits(ops, params, tokens)

    override fun packedLogits(
        ops: Ops,
        params: Params,
        tokens: Tensor,
        segments: Tensor,
        pass: Pass,
    ): Tensor = packed().packedLogits(ops, adapted(ops, params), tokens, segments, pass)

    override fun packedLoss(
        ops: Ops,
        params: Params,
        inputs: Tensor,
        targets: Tensor,
        mask: Tensor,
        segments: Tensor,
        pass: Pass,
    ): ModelOutput =
        packed().packedLoss(ops, adapted(ops, params), inputs, targets, mask, segments, pass)

    // Decoding with the cache reads `W + A·B` as every other pass does: GRPO samples from the
    // adapted model while only the adapters train.
    override fun prefill(ops: Ops, params: Params, tokens: Tensor, cache: DecodeCache): Tensor =
        cached().prefill(ops, adapted(ops, params), tokens, cache)

    override fun step(ops: Ops, params: Params, tokens: Tensor, cache: DecodeCache): Tensor =
        cached().step(ops, adapted(ops, params), tokens, cache)

    override val memoryTokens: Int
        get() = (base as? CachedDecoding)?.memoryTokens ?: 0

    private fun cached(): CachedDecoding =
        base as? CachedDecoding
            ?: throw IllegalArgumentException("the adapted model cannot decode with a cache")

    private fun packed(): PackedSequences =
        base as? PackedSequences
            ?: throw IllegalArgumentException("the adapted model cannot run packed rows")

    /** [params] with `W + A·B` in place of every adapted W, computed once per pass. */
    private fun adapted(ops: Ops, params: Params): Params {
        val merged = HashMap<ParamRef, Tensor>()
        return Params { ref ->
            val pair = byWeight[ref]
            if (pair == null) params[ref]
            else
                merged.getOrPut(ref) {
                    ops.add(params[ref], ops.matmul(params[pair.a], params[pair.b]))
                }
        }
    }

    /**
     * The base model's weights with every adapter merged in (`W + A·B`, summed in double precision
     * and rounded once), from a snapshot of this model's parameters: what export and a plain base
     * model load.
     */
    public fun merge(values: Map<String, FloatArray>): Map<String, FloatArray> {
        val out = LinkedHashMap<String, FloatArray>()
        for (ref in base.parameters.all) {
            val w = values[ref.name] ?: throw IllegalArgumentException("no values for ${ref.name}")
            val pair = byWeight[ref]
            out[ref.name] =
                if (pair == null) w.copyOf()
                else
                    mergeOne(
                        w,
                        values.getValue(pair.a.name),
                        values.getValue(pair.b.name),
                        ref.shape[0],
                        ref.shape[1],
                    )
        }
        return out
    }

    private fun mergeOne(
        w: FloatArray,
        a: FloatArray,
        b: FloatArray,
        inputs: Int,
        outputs: Int,
    ): FloatArray {
        val rank = spec.rank
        val out = FloatArray(w.size)
        val row = DoubleArray(outputs)
        for (i in 0 until inputs) {
            for (j in 0 until outputs) row[j] = w[i * outputs + j].toDouble()
            for (k in 0 until rank) {
                val aik = a[i * rank + k].toDouble()
                if (aik == 0.0) continue
                for (j in 0 until outputs) row[j] += aik * b[k * outputs + j]
            }
            for (j in 0 until outputs) out[i * outputs + j] = row[j].toFloat()
        }
        return out
    }
}
