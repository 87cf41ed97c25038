package looplab.pipelines.cli

import looplab.curriculum.tasks.AlgorithmicTask
import looplab.dsl.ExperimentSpec

/** A built-in experiment the CLI can run by name. */
public class BuiltInExample(
    public val name: String,
    public val description: String,
    /** Tasks of its own that the example needs registered, beyond the built-in ones. */
    public val tasks: List<AlgorithmicTask> = emptyList(),
    /**
     * The same experiment at the architecture's published size, for `plan --full` and GPU runs;
     * [spec] is then its CPU-sized default (narrower, smaller vocabulary, same parts).
     */
    public val full: (() -> ExperimentSpec)? = null,
    public val spec: () -> ExperimentSpec,
)

/** The examples a distribution of looplab ships. */
public fun interface ExampleCatalog {
    public fun examples(): List<BuiltInExample>
}
