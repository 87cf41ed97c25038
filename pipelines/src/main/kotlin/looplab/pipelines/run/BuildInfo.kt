package looplab.pipelines.run

import java.util.Properties

/**
 * looplab's version and commit, written into the jar when it was built
 * (`looplab/build.properties`).
 */
public object BuildInfo {
    private val properties =
        Properties().apply {
            BuildInfo::class.java.getResourceAsStream("/looplab/build.properties")?.use { load(it) }
        }

    /** e.g. 0.1.0-SNAPSHOT; "unknown" when the classes were not built by Maven. */
    public val version: String = properties.getProperty("version", "unknown")

    /** The commit the build was made from; "unknown" when it was not built in a git checkout. */
    public val commit: String = properties.getProperty("commit", "unknown")

    /** True when the build had uncommitted changes to tracked files; null when unknown. */
    public val dirty: Boolean? = properties.getProperty("dirty")?.toBooleanStrictOrNull()
}
