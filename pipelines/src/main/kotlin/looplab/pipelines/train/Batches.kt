package looplab.pipelines.train

/** The batch of every optimizer step of a stage, made ahead by producers; closing it stops them. */
public interface Batches<B : Any> : AutoCloseable {
    /**
     * The batch of 0-based [step]; steps are asked for in order, from where the stage starts or
     * resumes.
     */
    public fun next(step: Long): B
}
