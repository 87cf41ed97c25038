package looplab.models.eager

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.index.NDIndex
import ai.djl.ndarray.types.Shape
import java.util.Random
import looplab.models.params.Init
import looplab.models.params.ParamRef
import looplab.models.params.ParamRegistry
import looplab.models.params.Params
import looplab.models.tensor.Tensor

/**
 * The values of a model's declared parameters as NDArrays on the backend's device. Initialisation
 * is computed on the host from (seed, parameter name), so it is the same on every device and does
 * not depend on the order parameters are created in.
 */
public class ParameterStore(
    public val registry: ParamRegistry,
    private val backend: EagerBackend,
    seed: Long,
) : Params, AutoCloseable {
    private val manager = backend.manager.newSubManager()
    private val arrays: Map<ParamRef, NDArray> =
        registry.all.associateWith { ref ->
            manager.create(initialValues(ref, seed), ref.shape.toShape()).also {
                it.setRequiresGradient(true)
            }
        }

    /** Every parameter array, in declaration order. */
    public val values: Collection<NDArray>
        get() = arrays.values

    /** Scalars held, counted from the arrays actually allocated. */
    public val count: Long
        get() = arrays.values.sumOf { it.size() }

    override fun get(ref: ParamRef): Tensor = EagerTensor(array(ref))

    /** The array of [ref]. */
    public fun array(ref: ParamRef): NDArray =
        arrays[ref] ?: error("parameter ${ref.name} does not belong to this model")

    /** The gradient accumulated on [ref]; a new handle, owned by the array's current manager. */
    public fun gradient(ref: ParamRef): NDArray = array(ref).gradient

    /**
     * Sets every gradient to zero; DJL's collector never does, so gradients would accumulate. It
     * runs in a scope: `set(index, 0)` makes a scalar array in the target's manager, which for a
     * parameter's gradient would be the store's own and live (leak) until the model is closed.
     */
    public fun zeroGradients(): Unit =
        backend.scoped(arrays.values) { _, _ ->
            arrays.values.forEach { array -> array.gradient.set(NDIndex("..."), 0) }
        }

    /** A host copy of every parameter, by name. */
    public fun snapshot(): Map<String, FloatArray> =
        arrays.entries.associate { (ref, array) -> ref.name to array.toFloatArray() }

    /** Overwrites parameters from a [snapshot]; names and sizes must match exactly. */
    public fun load(values: Map<String, FloatArray>) {
        val missing = arrays.keys.map { it.name }.filter { it !in values }
        val unknown = values.keys.filter { name -> arrays.keys.none { it.name == name } }
        require(missing.isEmpty() && unknown.isEmpty()) {
            "checkpoint does not match the model: missing ${missing.ifEmpty { "nothing" }}, unexpected ${unknown.ifEmpty { "nothing" }}"
        }
        arrays.forEach { (ref, array) ->
            val data = values.getValue(ref.name)
            require(data.size.toLong() == ref.size) {
                "checkpoint holds ${data.size} values for ${ref.name}, the model needs ${ref.size}"
            }
            array.set(data)
        }
    }

    /** Frees the parameters (and their gradients) on the device. */
    override fun close(): Unit = manager.close()

    private fun initialValues(ref: ParamRef, seed: Long): FloatArray =
        when (val init = ref.init) {
            is Init.Constant -> FloatArray(ref.size.toInt()) { init.value.toFloat() }
            is Init.Normal -> {
                val random = Random(seed * 1_000_003L + ref.name.hashCode())
                FloatArray(ref.size.toInt()) { (random.nextGaussian() * init.std).toFloat() }
            }
        }
}

internal fun List<Int>.toShape(): Shape = Shape(*map { it.toLong() }.toLongArray())
