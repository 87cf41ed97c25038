package looplab.pipelines.cli

import java.io.File
import java.lang.management.ManagementFactory

/** The command that starts looplab again, for the processes that run a sweep's cells. */
public object Launcher {
    /**
     * This JVM's own command: the same java, its `-D`/`-X` options, and `-jar <jar>` or the class
     * path and main class. `LOOPLAB_LAUNCHER` (words separated by spaces) replaces it, for a
     * cluster whose compute nodes see java or the jar at other paths.
     */
    public fun current(): List<String> {
        System.getenv("LOOPLAB_LAUNCHER")
            ?.takeIf { it.isNotBlank() }
            ?.let {
                return it.trim().split(Regex("\\s+"))
            }
        val java =
            ProcessHandle.current()
                .info()
                .command()
                .orElse(File(System.getProperty("java.home"), "bin/java").path)
        val options =
            ManagementFactory.getRuntimeMXBean().inputArguments.filter {
                it.startsWith("-D") || it.startsWith("-X")
            }
        val main = System.getProperty("sun.java.command").orEmpty().substringBefore(' ')
        return if (main.endsWith(".jar")) {
            listOf(java) + options + listOf("-jar", File(main).absolutePath)
        } else {
            val classPath =
                System.getProperty("java.class.path").split(File.pathSeparator).joinToString(
                    File.pathSeparator
                ) {
                    File(it).absolutePath
                }
            listOf(java) +
                options +
                listOf("-cp", classPath, main.ifEmpty { PlainCli::class.java.name })
        }
    }
}

/** The looplab command without built-in examples: runs specs, scripts and sweep cells. */
public object PlainCli {
    @JvmStatic
    public fun main(args: Array<String>): Unit = runCli(ExampleCatalog { emptyList() }, args)
}
