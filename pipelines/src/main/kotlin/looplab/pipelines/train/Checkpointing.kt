package looplab.pipelines.train

/**
 * Saves where a stage stands (with its weights, optimizer and curriculum state) and resumes from
 * it.
 */
public interface Checkpointing {
    /** The state to continue from, with every tensor restored; null to start from step 0. */
    public fun resume(): TrainingState?

    public fun save(state: TrainingState)

    /** The step of the last checkpoint saved, null without one (named when a run diverges). */
    public val lastStep: Long?
}
