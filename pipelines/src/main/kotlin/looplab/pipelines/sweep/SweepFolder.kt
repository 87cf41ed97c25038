package looplab.pipelines.sweep

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.Serializable
import kotlinx.serialization.json.Json
import looplab.dsl.SlurmResources
import looplab.dsl.SweepGrid
import looplab.dsl.UserFacingError
import looplab.pipelines.run.RunDirectory

/** `sweep.json`: what a sweep is (its cells and how they run) and the Slurm jobs it submitted. */
@Serializable
public data class SweepManifest(
    val experiment: String,
    val created: String,
    /** The experiment argument the sweep was made from; cells load tasks of its own from it. */
    val source: String? = null,
    /** The experiment defines tasks of its own (code), so a cell loads [source] again for them. */
    val ownTasks: Boolean = false,
    val grid: SweepGrid,
    /** `local` or `slurm`. */
    val executor: String,
    val slurm: SlurmResources = SlurmResources(),
    /** How many times a cell that ended unfinished is started again from its checkpoints. */
    val retries: Int = 2,
    /**
     * The command that runs looplab on the machine running the cells (java, class path, main
     * class).
     */
    val launcher: List<String>,
    val cells: List<SweepCell>,
    val submissions: List<Submission> = emptyList(),
)

/** One `sbatch` of the sweep's array script: its job id and the cells (array indices) it runs. */
@Serializable public data class Submission(val job: String, val cells: List<Int>)

/**
 * `cells/<id>/status.json`, written by the cell itself: Slurm's accounting is not needed to follow
 * a sweep.
 */
@Serializable
public data class CellStatus(
    /**
     * `running`, `complete`, `failed` (the run ended in error) or `terminated` (stopped by a
     * signal: cancelled, preempted, timed out).
     */
    val state: String,
    /** 1 for the first start, 2 for the first resumption, ... */
    val attempt: Int,
    val host: String,
    /** The Slurm job of this attempt (`<array job>_<index>`), if it runs under Slurm. */
    val job: String? = null,
    val started: String,
    val ended: String? = null,
    /** The step of the checkpoint this attempt continued from, if any. */
    val resumedFromStep: Long? = null,
    val message: String? = null,
)

/** Thrown when a folder is not a sweep, or its files cannot be read. */
public class SweepFolderException(message: String) : RuntimeException(message), UserFacingError

/**
 * A sweep's folder: `sweep.json`, and per cell `cells/<id>/` with `plan.json`, `status.json` and
 * the run in `run/`.
 */
public class SweepFolder(public val root: Path) {
    // Made on first write: reading a folder that is not a sweep must not create it.
    private val files by lazy { RunDirectory(root) }

    public fun manifest(): SweepManifest {
        val file = root.resolve(MANIFEST)
        if (!Files.isRegularFile(file))
            throw SweepFolderException(
                "$root: no $MANIFEST there, so it is not a looplab sweep folder"
            )
        return try {
            json.decodeFromString(SweepManifest.serializer(), Files.readString(file))
        } catch (e: IllegalArgumentException) {
            throw SweepFolderException(
                "$file cannot be read: ${e.message?.lineSequence()?.first()}"
            )
        }
    }

    public fun writeManifest(manifest: SweepManifest): Unit =
        files.write(MANIFEST, json.encodeToString(SweepManifest.serializer(), manifest) + "\n")

    public fun cellDir(cell: SweepCell): Path = root.resolve("cells").resolve(cell.id)

    /** The cell's run folder: a fixed place, so starting a cell again resumes it. */
    public fun runDir(cell: SweepCell): Path = cellDir(cell).resolve("run")

    public fun status(cell: SweepCell): CellStatus? {
        val file = cellDir(cell).resolve(STATUS)
        if (!Files.isRegularFile(file)) return null
        // A status file is replaced atomically, so it is whole or absent; a foreign one is
        // reported, not trusted.
        return try {
            json.decodeFromString(CellStatus.serializer(), Files.readString(file))
        } catch (e: IllegalArgumentException) {
            null
        }
    }

    public fun writeStatus(cell: SweepCell, status: CellStatus): Unit =
        RunDirectory(cellDir(cell))
            .write(STATUS, json.encodeToString(CellStatus.serializer(), status) + "\n")

    /**
     * Written by `--cancel` (or when the follower sees the whole array cancelled): nothing is
     * started again.
     */
    public val cancelMark: Path
        get() = root.resolve("cancelled")

    public fun write(name: String, text: String): Unit = files.write(name, text)

    public companion object {
        public const val MANIFEST: String = "sweep.json"
        private const val STATUS = "status.json"
        internal val json = Json {
            prettyPrint = true
            encodeDefaults = true
            classDiscriminator = "type"
        }
    }
}
