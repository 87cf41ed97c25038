package looplab.models.params

import looplab.dsl.ParamRole
import looplab.models.tensor.Tensor

/** How a parameter starts. */
public sealed interface Init {
    /** Normal(0, std²) entries. */
    public data class Normal(val std: Double) : Init

    /** Every entry equal to [value] (1 for norm gains, 0 for zero-initialised projections). */
    public data class Constant(val value: Double) : Init
}

/**
 * A declared parameter: its unique dotted [name] (e.g. `blocks.0.attn.wq`), [shape] and
 * initialisation. Models hold refs, backends hold values: the same model runs on any backend.
 */
public class ParamRef
internal constructor(
    public val name: String,
    public val shape: List<Int>,
    public val init: Init,
    /**
     * What the parameter does: optimizers group parameters by it (decay, Muon, learning-rate
     * multipliers).
     */
    public val role: ParamRole,
) {
    /** Whether weight decay applies: to hidden matrices only. */
    public val decay: Boolean
        get() = role.decays

    /** Number of scalars. */
    public val size: Long
        get() = shape.fold(1L) { acc, d -> acc * d }

    override fun toString(): String = "$name$shape"
}

/** Where a model declares its parameters, in the order they are created. */
public class ParamRegistry {
    private val refs = LinkedHashMap<String, ParamRef>()
    private var positions: Map<ParamRef, Int>? = null

    /** Every declared parameter. */
    public val all: List<ParamRef>
        get() = refs.values.toList()

    /**
     * The position of every parameter in [all], built once (and again after a later declaration).
     */
    internal val index: Map<ParamRef, Int>
        get() =
            positions
                ?: refs.values
                    .withIndex()
                    .associate { (i, ref) -> ref to i }
                    .also { positions = it }

    /** Total number of scalars. */
    public val count: Long
        get() = refs.values.sumOf { it.size }

    /** A scope whose names start with [prefix]. */
    public fun scope(prefix: String): ParamScope = ParamScope(prefix, this)

    internal fun declare(ref: ParamRef): ParamRef {
        require(refs.putIfAbsent(ref.name, ref) == null) {
            "parameter ${ref.name} is declared twice"
        }
        positions = null
        return ref
    }
}

/** Declares parameters under a dotted name prefix. */
public class ParamScope
internal constructor(private val prefix: String, private val registry: ParamRegistry) {
    /** A nested scope, `prefix.name`. */
    public fun scope(name: String): ParamScope = ParamScope(qualify(name), registry)

    /**
     * A weight matrix stored input-major ([inputs, outputs]), normal-initialised; a hidden
     * [ParamRole.Matrix] unless [role] says otherwise.
     */
    public fun matrix(
        name: String,
        inputs: Int,
        outputs: Int,
        std: Double,
        role: ParamRole = ParamRole.Matrix,
    ): ParamRef = tensor(name, listOf(inputs, outputs), Init.Normal(std), role)

    /** An embedding table [rows, width], normal-initialised. */
    public fun table(name: String, rows: Int, width: Int, std: Double): ParamRef =
        tensor(name, listOf(rows, width), Init.Normal(std), ParamRole.Embedding)

    /** A vector of norm gains, initialised to one. */
    public fun gain(name: String, size: Int): ParamRef =
        tensor(name, listOf(size), Init.Constant(1.0), ParamRole.Gain)

    /**
     * A parameter of any [shape] starting at [init]. Without a [role], one is inferred from its
     * name and shape ([ParamRole.infer]: a 2-D or larger tensor is a matrix, a vector a control).
     */
    public fun tensor(
        name: String,
        shape: List<Int>,
        init: Init,
        role: ParamRole = ParamRole.infer(qualify(name), shape),
    ): ParamRef = registry.declare(ParamRef(qualify(name), shape, init, role))

    /**
     * A tensor of [shape] that starts at zero (e.g. the B of a residual adapter, so it starts as a
     * no-op).
     */
    public fun zeros(
        name: String,
        shape: List<Int>,
        role: ParamRole = ParamRole.infer(qualify(name), shape),
    ): ParamRef = tensor(name, shape, Init.Constant(0.0), role)

    /** Scalars or vectors of learned control (gates, scales, biases) starting at [value]. */
    public fun control(name: String, shape: List<Int>, value: Double): ParamRef =
        tensor(name, shape, Init.Constant(value), ParamRole.Control)

    private fun qualify(name: String): String = if (prefix.isEmpty()) name else "$prefix.$name"
}

/** A backend's view of parameter values. */
public fun interface Params {
    public operator fun get(ref: ParamRef): Tensor
}
