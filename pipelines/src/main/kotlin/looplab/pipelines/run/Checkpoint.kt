package looplab.pipelines.run

import kotlinx.serialization.Serializable
import kotlinx.serialization.json.Json
import looplab.models.eager.ParameterStore
import looplab.models.optim.Optimizer
import looplab.models.optim.OptimizerState
import looplab.pipelines.train.TrainingState
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

/**
 * A checkpoint folder: `params.bin`, `optimizer.bin` and `state.json`. It is written beside the
 * old one and swapped in by a rename, so a crash mid-write never loses the last good checkpoint.
 */
public class Checkpoint(public val dir: Path) {
    public val exists: Boolean get() = Files.exists(dir.resolve(STATE))

    public fun save(state: TrainingState, store: ParameterStore, optimizer: Optimizer) {
        val staging = dir.resolveSibling("${dir.fileName}.partial")
        staging.toFile().deleteRecursively()
        Files.createDirectories(staging)
        TensorFile.write(staging.resolve(PARAMS), store.snapshot())
        val opt = optimizer.snapshot()
        TensorFile.write(staging.resolve(OPTIMIZER), opt.tensors)
        Files.writeString(staging.resolve(STATE), json.encodeToString(TrainingState.serializer(), state.copy(optimizerSteps = opt.steps)) + "\n")
        val old = dir.resolveSibling("${dir.fileName}.old")
        old.toFile().deleteRecursively()
        if (Files.exists(dir)) Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE)
        Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE)
        old.toFile().deleteRecursively()
    }

    public fun state(): TrainingState = try {
        json.decodeFromString(TrainingState.serializer(), Files.readString(dir.resolve(STATE)))
    } catch (e: Exception) {
        throw CheckpointException("${dir.resolve(STATE)} cannot be read: ${e.message?.lineSequence()?.first()}")
    }

    /** SHA-256 of the weights file, in hex: results name the exact weights they measured. */
    public fun weightsChecksum(): String {
        if (!exists) throw CheckpointException("no checkpoint at $dir: the stage that should have written it did not finish")
        val digest = java.security.MessageDigest.getInstance("SHA-256")
        Files.newInputStream(dir.resolve(PARAMS)).use { input ->
            val buffer = ByteArray(1 shl 16)
            while (true) { val read = input.read(buffer); if (read < 0) break; digest.update(buffer, 0, read) }
        }
        return digest.digest().joinToString("") { "%02x".format(it) }
    }

    /** Loads only the weights, for evaluating or fine-tuning what this stage produced. */
    public fun restoreWeights(store: ParameterStore) {
        if (!exists) throw CheckpointException("no checkpoint at $dir: the stage that should have written it did not finish")
        try {
            store.load(TensorFile.read(dir.resolve(PARAMS)))
        } catch (e: IllegalArgumentException) {
            throw CheckpointException("$dir does not fit this model: ${e.message}")
        }
    }

    /** Loads the tensors into [store] and [optimizer]; [state] is this checkpoint's, passed in when already read. */
    public fun restore(store: ParameterStore, optimizer: Optimizer, state: TrainingState = state()) {
        restoreWeights(store)
        try {
            optimizer.load(OptimizerState(state.optimizerSteps, TensorFile.read(dir.resolve(OPTIMIZER))))
        } catch (e: IllegalArgumentException) {
            throw CheckpointException("$dir does not fit this model: ${e.message}")
        } catch (e: IllegalStateException) {
            throw CheckpointException("$dir does not fit this model: ${e.message}")
        }
    }

    private companion object {
        const val PARAMS = "params.bin"
        const val OPTIMIZER = "optimizer.bin"
        const val STATE = "state.json"
        val json = Json { prettyPrint = true }
    }
}
