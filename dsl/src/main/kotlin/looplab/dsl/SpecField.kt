package looplab.dsl

import kotlin.properties.ReadWriteProperty
import kotlin.reflect.KProperty

/**
 * A builder property that reads and writes one field of the spec the builder holds, so the field's
 * default is written once, in the spec.
 */
internal class SpecField<S, T>(
    private val get: () -> S,
    private val set: (S) -> Unit,
    private val read: (S) -> T,
    private val write: (S, T) -> S,
) : ReadWriteProperty<Any?, T> {
    override fun getValue(thisRef: Any?, property: KProperty<*>): T = read(get())

    override fun setValue(thisRef: Any?, property: KProperty<*>, value: T): Unit =
        set(write(get(), value))
}
