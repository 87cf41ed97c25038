package looplab.pipelines.run

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest

/** An experiment script as copied into the run folder, beside `plan.json`, with its SHA-256. */
public class ArchivedScript(public val name: String, public val bytes: ByteArray) {
    public val sha256: String = sha256(bytes)

    public companion object {
        public fun of(script: Path): ArchivedScript =
            ArchivedScript(script.fileName.toString(), Files.readAllBytes(script))

        public fun sha256(bytes: ByteArray): String =
            MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") {
                "%02x".format(it)
            }
    }
}
