package looplab.pipelines.run

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.time.LocalDateTime
import java.time.format.DateTimeFormatter

/**
 * `runs/<experiment>/<timestamp>/`: everything one run leaves behind. Whole files are replaced
 * atomically (written beside, then renamed), so a reader or a crash never sees half a file.
 */
public class RunDirectory(public val root: Path) {
    init {
        Files.createDirectories(root)
    }

    public fun file(name: String): Path = root.resolve(name)

    /** Replaces [name] with [text] atomically. */
    public fun write(name: String, text: String): Unit = write(name, text.toByteArray())

    /** Replaces [name] with [bytes] atomically. */
    public fun write(name: String, bytes: ByteArray) {
        val target = file(name)
        val staging = target.resolveSibling("$name.partial")
        Files.write(staging, bytes)
        Files.move(
            staging,
            target,
            StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE,
        )
    }

    /** Appends one line to [name]. */
    public fun append(name: String, line: String) {
        Files.writeString(
            file(name),
            line + "\n",
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND,
        )
    }

    /**
     * The checkpoints of one variant's stage; [experiment] is who may resume from them, [notes]
     * hears which one a resume took.
     */
    public fun checkpoint(
        variant: String,
        stage: String,
        experiment: String? = null,
        notes: (String) -> Unit = {},
    ): Checkpoint =
        Checkpoint(
            root.resolve("checkpoints").resolve(variant).resolve(stage),
            experiment,
            notes = notes,
        )

    public companion object {
        private val stamp = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss")

        /**
         * A new run folder under [base]/[experiment], named by the current time (made unique if
         * taken).
         */
        public fun create(
            base: Path,
            experiment: String,
            now: LocalDateTime = LocalDateTime.now(),
        ): RunDirectory {
            val parent = base.resolve(experiment)
            val name = stamp.format(now)
            val dir =
                (sequenceOf(name) + generateSequence(2) { it + 1 }.map { "$name-$it" })
                    .map { parent.resolve(it) }
                    .first { !Files.exists(it) }
            return RunDirectory(dir)
        }
    }
}
