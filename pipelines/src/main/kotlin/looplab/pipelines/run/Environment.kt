package looplab.pipelines.run

import ai.djl.engine.Engine
import kotlinx.serialization.Serializable
import java.io.File
import java.util.concurrent.TimeUnit

/** What a result was produced with, so that it can be reproduced from its run folder alone. */
@Serializable
public data class Environment(
    val looplabVersion: String,
    val gitCommit: String,
    val gitDirty: Boolean?,
    val java: String,
    val javaVendor: String,
    val kotlin: String,
    val os: String,
    val cpus: Int,
    val maxHeapBytes: Long,
    val djl: String,
    val pytorch: String,
    val device: String,
    val command: List<String>,
) {
    public companion object {
        public fun capture(device: String, command: List<String>): Environment = Environment(
            looplabVersion = Environment::class.java.`package`?.implementationVersion ?: "development",
            gitCommit = git("rev-parse", "HEAD") ?: "unknown (not a git checkout)",
            gitDirty = git("status", "--porcelain", "--untracked-files=no")?.isNotBlank(),
            java = System.getProperty("java.version"),
            javaVendor = System.getProperty("java.vendor"),
            kotlin = KotlinVersion.CURRENT.toString(),
            os = "${System.getProperty("os.name")} ${System.getProperty("os.version")} ${System.getProperty("os.arch")}",
            cpus = Runtime.getRuntime().availableProcessors(),
            maxHeapBytes = Runtime.getRuntime().maxMemory(),
            djl = Engine::class.java.`package`?.implementationVersion ?: "0.35.1",
            pytorch = Engine.getInstance().version,
            device = device,
            command = command,
        )

        /** The commit looplab runs from, when started inside a git checkout. */
        public fun gitCommit(): String = git("rev-parse", "HEAD") ?: "unknown"

        private fun git(vararg args: String): String? = try {
            val process = ProcessBuilder(listOf("git") + args).directory(File(".")).redirectErrorStream(false).start()
            val out = process.inputStream.bufferedReader().readText().trim()
            if (process.waitFor(5, TimeUnit.SECONDS) && process.exitValue() == 0) out else null
        } catch (e: Exception) {
            null
        }
    }
}
