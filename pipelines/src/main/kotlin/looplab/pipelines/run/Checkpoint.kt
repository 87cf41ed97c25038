package looplab.pipelines.run

import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.security.MessageDigest
import kotlinx.serialization.Serializable
import kotlinx.serialization.json.Json
import looplab.models.eager.ParameterStore
import looplab.models.optim.Optimizer
import looplab.models.optim.OptimizerState
import looplab.pipelines.train.TrainingState

/**
 * Which experiment, variant and stage a checkpoint belongs to, and the layout (name and size) of
 * its parameters.
 */
@Serializable
public data class CheckpointIdentity(
    val experiment: String,
    val variant: String,
    val stage: String,
    val parameters: String,
)

@Serializable internal data class FileDigest(val bytes: Long, val sha256: String)

/**
 * `checkpoint.json`, written last into a checkpoint folder: what it is and how to check its files.
 */
@Serializable
internal data class CheckpointManifest(
    val format: Int,
    val identity: CheckpointIdentity?,
    val files: Map<String, FileDigest>,
    val state: TrainingState,
)

/** A checkpoint that was read and checked: its state and tensors, and the folder it came from. */
public class LoadedCheckpoint(
    public val dir: Path,
    public val state: TrainingState,
    public val params: Map<String, FloatArray>,
    public val optimizer: Map<String, FloatArray>,
    /** SHA-256 of its `params.bin`, in hex: results name the exact weights they measured. */
    public val weightsSha256: String,
)

/** A checkpoint would have been written from NaN or infinite values; none is, and the run stops. */
public class NonFiniteStateException(message: String) :
    RuntimeException(message), looplab.dsl.UserFacingError

/**
 * The checkpoints of one variant's stage: folders `step-000000120/` holding `params.bin`,
 * `optimizer.bin` and `checkpoint.json` (the state, the identity and every file's length and
 * SHA-256). The last [keep] are kept.
 *
 * Writing has no window in which a crash loses the last good checkpoint: the new one is written
 * into a `.partial` folder, each file and the folder are fsynced, the folder is renamed into place
 * (and the parent fsynced), and only then are older ones removed. Resuming takes the newest
 * checkpoint whose files match their digests, fit the model and hold finite values, and says which
 * one it took and why it passed over any newer one. Nothing is ever written from non-finite values.
 */
public class Checkpoint(
    public val dir: Path,
    /**
     * Who may resume from these checkpoints; null accepts any (e.g. reading weights for an eval).
     */
    private val experiment: String? = null,
    public val keep: Int = 2,
    /** Where notes go (which checkpoint a resume took, which it passed over). */
    private val notes: (String) -> Unit = {},
) {
    init {
        require(keep >= 1) { "keep must be ≥ 1, was $keep" }
    }

    private var lastSaved: TrainingState? = null
    private var lastLoaded: LoadedCheckpoint? = null

    /** Whether any checkpoint folder exists (valid or not: [latest] says). */
    public val exists: Boolean
        get() = folders().isNotEmpty()

    /**
     * Writes a checkpoint of [state], the parameters of [store] and [optimizer]'s state, then
     * removes all but the newest [keep].
     */
    public fun save(state: TrainingState, store: ParameterStore, optimizer: Optimizer) {
        val params = store.snapshot()
        val opt = optimizer.snapshot()
        nonFinite(params)?.let {
            throw NonFiniteStateException(
                "${state.variant} at step ${state.step} of ${state.stage}: parameter $it is NaN or infinite; no checkpoint was written from it"
            )
        }
        nonFinite(opt.tensors)?.let {
            throw NonFiniteStateException(
                "${state.variant} at step ${state.step} of ${state.stage}: optimizer state $it is NaN or infinite; no checkpoint was written from it"
            )
        }
        val saved = state.copy(optimizerSteps = opt.steps)
        Files.createDirectories(dir)
        val name = folderName(state.step)
        val staging = dir.resolve("$name$PARTIAL")
        staging.toFile().deleteRecursively()
        Files.createDirectories(staging)
        val files =
            linkedMapOf(
                PARAMS to TensorFile.encode(params),
                OPTIMIZER to TensorFile.encode(opt.tensors),
            )
        files.forEach { (file, bytes) ->
            beforeWrite?.invoke(staging.resolve(file))
            writeSynced(staging.resolve(file), bytes)
        }
        val manifest =
            CheckpointManifest(
                FORMAT,
                identity(state, store),
                files.mapValues { (_, b) -> FileDigest(b.size.toLong(), sha256(b)) },
                saved,
            )
        writeSynced(
            staging.resolve(MANIFEST),
            (json.encodeToString(CheckpointManifest.serializer(), manifest) + "\n").toByteArray(),
        )
        syncDirectory(staging)
        val target = dir.resolve(name)
        // Only a re-save of the same step finds its folder taken; the older checkpoints stay
        // meanwhile.
        if (Files.exists(target)) target.toFile().deleteRecursively()
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE)
        syncDirectory(dir)
        folders().drop(keep).forEach { it.toFile().deleteRecursively() }
        lastSaved = saved
    }

    /**
     * The newest checkpoint that passes every check, or null when there is none at all. When
     * checkpoints exist but none passes, the error lists each one and what is wrong with it.
     */
    public fun latest(store: ParameterStore? = null): LoadedCheckpoint? {
        val candidates = folders()
        if (candidates.isEmpty()) return null
        val rejected = mutableListOf<String>()
        for (folder in candidates) {
            try {
                val loaded = check(folder, store)
                rejected.forEach { notes("passed over $it") }
                if (rejected.isNotEmpty() || candidates.size > 1)
                    notes(
                        "using the checkpoint of ${loaded.state.variant}/${loaded.state.stage} at $folder (step ${loaded.state.step})"
                    )
                return loaded
            } catch (e: CheckpointException) {
                rejected += e.message!!
            }
        }
        throw CheckpointException(
            "no usable checkpoint in $dir:\n  " + rejected.joinToString("\n  ")
        )
    }

    /** The state of the newest checkpoint (the one just saved, or the newest valid one on disk). */
    public fun state(): TrainingState =
        lastSaved ?: latest()?.state ?: throw CheckpointException("no checkpoint at $dir")

    /** Loads only the weights, for evaluating or fine-tuning what this stage produced. */
    public fun restoreWeights(store: ParameterStore) {
        val loaded = latest(store) ?: throw missing()
        load(loaded.dir, store) { store.load(loaded.params) }
        lastLoaded = loaded
    }

    /**
     * SHA-256 of the weights file (of the checkpoint last restored, else the newest valid one), in
     * hex.
     */
    public fun weightsChecksum(): String = (lastLoaded ?: latest() ?: throw missing()).weightsSha256

    private fun missing() =
        CheckpointException(
            "no checkpoint at $dir: the stage that should have written it did not finish"
        )

    /** Loads [loaded] (from [latest]) into [store] and [optimizer]. */
    public fun restore(store: ParameterStore, optimizer: Optimizer, loaded: LoadedCheckpoint) {
        load(loaded.dir, store) {
            store.load(loaded.params)
            optimizer.load(OptimizerState(loaded.state.optimizerSteps, loaded.optimizer))
        }
        lastSaved = loaded.state
        lastLoaded = loaded
    }

    private fun load(folder: Path, store: ParameterStore, block: () -> Unit) =
        try {
            block()
        } catch (e: IllegalArgumentException) {
            throw CheckpointException("$folder does not fit this model: ${e.message}")
        } catch (e: IllegalStateException) {
            throw CheckpointException("$folder does not fit this model: ${e.message}")
        }

    /** Reads [folder] and checks it: digests, identity, layout, finite values. */
    private fun check(folder: Path, store: ParameterStore?): LoadedCheckpoint {
        fun fail(reason: String): Nothing = throw CheckpointException("$folder: $reason")
        val manifestFile = folder.resolve(MANIFEST)
        if (!Files.isRegularFile(manifestFile))
            fail("$MANIFEST is missing (the write did not finish)")
        val manifest =
            try {
                json.decodeFromString(
                    CheckpointManifest.serializer(),
                    Files.readString(manifestFile),
                )
            } catch (e: Exception) {
                fail("$MANIFEST cannot be read: ${e.message?.lineSequence()?.first()}")
            }
        if (manifest.format != FORMAT)
            fail("checkpoint format ${manifest.format}, this looplab reads $FORMAT")
        val identity = manifest.identity
        if (experiment != null && identity != null && identity.experiment != experiment) {
            fail("it belongs to experiment \"${identity.experiment}\", not \"$experiment\"")
        }
        val expectedFolder = dir.fileName.toString()
        if (identity != null && identity.stage != expectedFolder)
            fail("it belongs to stage \"${identity.stage}\", not \"$expectedFolder\"")
        if (identity != null && identity.variant != dir.parent?.fileName?.toString())
            fail("it belongs to variant \"${identity.variant}\", not \"${dir.parent?.fileName}\"")
        if (store != null && identity != null && identity.parameters != layout(store)) {
            fail(
                "its parameters (${identity.parameters.take(12)}…) are laid out differently from this model's (${layout(store).take(12)}…): it was written for another model"
            )
        }
        val tensors =
            listOf(PARAMS, OPTIMIZER).associateWith { file ->
                val path = folder.resolve(file)
                val digest = manifest.files[file] ?: fail("$MANIFEST lists no $file")
                if (!Files.isRegularFile(path)) fail("$file is missing")
                val bytes = Files.readAllBytes(path)
                if (bytes.size.toLong() != digest.bytes)
                    fail(
                        "$file has ${bytes.size} bytes, ${digest.bytes} were written (truncated or damaged)"
                    )
                if (sha256(bytes) != digest.sha256)
                    fail("$file does not match its SHA-256 (damaged)")
                TensorFile.decode(bytes, "$folder/$file").also { values ->
                    nonFinite(values)?.let { fail("$file holds NaN or infinite values in $it") }
                }
            }
        return LoadedCheckpoint(
            folder,
            manifest.state,
            tensors.getValue(PARAMS),
            tensors.getValue(OPTIMIZER),
            manifest.files.getValue(PARAMS).sha256,
        )
    }

    /** Checkpoint folders, newest first. */
    private fun folders(): List<Path> {
        if (!Files.isDirectory(dir)) return emptyList()
        return Files.list(dir)
            .use { paths ->
                paths
                    .filter { Files.isDirectory(it) && STEP.matches(it.fileName.toString()) }
                    .toList()
            }
            .sortedByDescending { it.fileName.toString() }
    }

    private fun identity(state: TrainingState, store: ParameterStore): CheckpointIdentity? =
        experiment?.let { CheckpointIdentity(it, state.variant, state.stage, layout(store)) }

    public companion object {
        private const val FORMAT = 2
        private const val PARAMS = "params.bin"
        private const val OPTIMIZER = "optimizer.bin"
        private const val MANIFEST = "checkpoint.json"
        private const val PARTIAL = ".partial"
        private val STEP = Regex("step-\\d{9}")
        private val json = Json {
            prettyPrint = true
            encodeDefaults = true
        }

        /**
         * Called before each file of a checkpoint is written: the kill harness stops a run right
         * there.
         */
        @Volatile internal var beforeWrite: ((Path) -> Unit)? = null

        internal fun folderName(step: Long): String = "step-%09d".format(step)

        /** A digest of the parameters' names and sizes: equal layouts load into each other. */
        internal fun layout(store: ParameterStore): String =
            sha256(
                store.registry.all
                    .joinToString("\n") { "${it.name}:${it.shape.joinToString("x")}" }
                    .toByteArray()
            )

        private fun nonFinite(tensors: Map<String, FloatArray>): String? =
            tensors.entries.firstOrNull { (_, values) -> values.any { !it.isFinite() } }?.key

        private fun sha256(bytes: ByteArray): String =
            MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") {
                "%02x".format(it)
            }

        private fun writeSynced(path: Path, bytes: ByteArray) {
            FileChannel.open(
                    path,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE,
                )
                .use { channel ->
                    val buffer = java.nio.ByteBuffer.wrap(bytes)
                    while (buffer.hasRemaining()) channel.write(buffer)
                    channel.force(true)
                }
        }

        /**
         * Makes a rename or a new file in [dir] durable (Linux lets a directory be opened and
         * synced).
         */
        private fun syncDirectory(dir: Path) {
            try {
                FileChannel.open(dir, StandardOpenOption.READ).use { it.force(true) }
            } catch (e: java.io.IOException) {
                // Some platforms cannot open a directory; the rename is still atomic there.
            }
        }
    }
}
