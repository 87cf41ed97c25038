package looplab.models.optim

import looplab.dsl.AdamW
import looplab.dsl.Lion
import looplab.dsl.Muon
import looplab.dsl.OptimizerSpec
import looplab.dsl.ParamRole
import looplab.models.params.ParamRef

/**
 * Parameters updated alike: by one rule, with or without weight decay, at one learning-rate
 * multiplier.
 */
public data class ParamGroup(
    /** The update rule's name: `adamw`, `lion` or `muon`. */
    public val rule: String,
    public val decay: Boolean,
    public val lrScale: Double,
    public val refs: List<ParamRef>,
) {
    /** One line: rule, decay, multiplier, the roles in it and how many tensors and scalars. */
    override fun toString(): String =
        "$rule decay=${if (decay) "yes" else "no"} lr×$lrScale roles=${refs.map { it.role }.distinct()} tensors=${refs.size} scalars=${refs.sumOf { it.size }}"
}

/** How an optimizer spec divides a model's parameters into [ParamGroup]s. */
public object ParamGroups {
    /**
     * Whether Muon updates [ref]: hidden 2-D matrices only; embeddings, head, gains and the rest go
     * to AdamW.
     */
    public fun takesMuon(ref: ParamRef): Boolean =
        ref.role == ParamRole.Matrix && ref.shape.size == 2

    /** The groups of [refs] under [spec], in the order their first parameter was declared. */
    public fun of(
        refs: List<ParamRef>,
        spec: OptimizerSpec,
        multipliers: Map<ParamRole, Double> = emptyMap(),
    ): List<ParamGroup> =
        when (spec) {
            is AdamW -> split("adamw", refs, spec, multipliers)
            is Lion -> split("lion", refs, spec, multipliers)
            is Muon ->
                split("muon", refs.filter(::takesMuon), spec, multipliers) +
                    of(refs.filterNot(::takesMuon), spec.adamw, multipliers)
        }

    /** [refs] by (decay, multiplier); decay only where the role decays and the rule has any. */
    private fun split(
        rule: String,
        refs: List<ParamRef>,
        spec: OptimizerSpec,
        multipliers: Map<ParamRole, Double>,
    ): List<ParamGroup> =
        refs
            .groupBy { (spec.weightDecay > 0 && it.decay) to (multipliers[it.role] ?: 1.0) }
            .map { (key, members) -> ParamGroup(rule, key.first, key.second, members) }
}
