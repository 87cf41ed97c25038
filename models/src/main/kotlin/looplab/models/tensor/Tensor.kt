package looplab.models.tensor

/**
 * A handle on a tensor of some backend. Model code may read its [shape] (shapes are fixed when a
 * program is traced) but never its values: a compiled backend has none to give while tracing.
 */
public interface Tensor {
    public val shape: List<Int>
}
