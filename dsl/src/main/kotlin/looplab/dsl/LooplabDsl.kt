package looplab.dsl

/**
 * Marks every looplab builder, so that an inner block cannot silently call a builder of an outer
 * one (a `model { }` inside `pipeline { }` is a compile error, not a surprise).
 */
@DslMarker public annotation class LooplabDsl
