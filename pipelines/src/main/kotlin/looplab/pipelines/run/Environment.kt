package looplab.pipelines.run

import ai.djl.engine.Engine
import ai.djl.pytorch.jni.JniUtils
import kotlinx.serialization.Serializable

/** What a result was produced with, so that it can be reproduced from its run folder alone. */
@Serializable
public data class Environment(
    /**
     * looplab's version and commit as built into the jar, not whatever directory it was started
     * from.
     */
    val looplabVersion: String,
    val looplabCommit: String,
    /**
     * True when looplab was built with uncommitted changes (the commit alone does not describe it).
     */
    val looplabDirty: Boolean?,
    val java: String,
    val javaVendor: String,
    val kotlin: String,
    val os: String,
    val cpus: Int,
    val maxHeapBytes: Long,
    val djl: String,
    val pytorch: String,
    val device: String,
    /** PyTorch's intra-op and inter-op threads, and OMP_NUM_THREADS as the process saw it. */
    val torchThreads: Int,
    val torchInteropThreads: Int,
    val ompNumThreads: String?,
    /** The command line as typed after `looplab` (empty when started from code). */
    val command: List<String>,
    /**
     * The experiment script, when the experiment came from one: its file name here and its SHA-256.
     */
    val script: String? = null,
    val scriptSha256: String? = null,
) {
    public companion object {
        public fun capture(
            device: String,
            command: List<String>,
            script: ArchivedScript? = null,
        ): Environment =
            Environment(
                looplabVersion = BuildInfo.version,
                looplabCommit = BuildInfo.commit,
                looplabDirty = BuildInfo.dirty,
                java = System.getProperty("java.version"),
                javaVendor = System.getProperty("java.vendor"),
                kotlin = KotlinVersion.CURRENT.toString(),
                os =
                    "${System.getProperty("os.name")} ${System.getProperty("os.version")} ${System.getProperty("os.arch")}",
                cpus = Runtime.getRuntime().availableProcessors(),
                maxHeapBytes = Runtime.getRuntime().maxMemory(),
                djl = Engine::class.java.`package`?.implementationVersion ?: "0.35.1",
                pytorch = Engine.getInstance().version,
                device = device,
                torchThreads = JniUtils.getNumThreads(),
                torchInteropThreads = JniUtils.getNumInteropThreads(),
                ompNumThreads = System.getenv("OMP_NUM_THREADS"),
                command = command,
                script = script?.name,
                scriptSha256 = script?.sha256,
            )
    }
}
