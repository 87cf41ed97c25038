package looplab.pipelines.run.tensorboard

import java.io.OutputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption
import java.util.zip.CRC32C

/**
 * A TensorBoard event file (`events.out.tfevents.<seconds>.<host>`), written by hand: TensorBoard
 * reads TFRecords, each `length (u64 LE) · masked CRC32C of length (u32 LE) · data · masked CRC32C
 * of data`, whose data is an `Event` protobuf. The first event carries the file version; every
 * other one carries a `Summary` of scalar values. Only the few protobuf fields used are encoded
 * (see [EventProto]); no TensorFlow or protobuf library is needed.
 */
public class EventFile(public val path: Path) : AutoCloseable {
    private val out: OutputStream =
        Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND)

    init {
        if (Files.size(path) == 0L)
            write(EventProto.fileVersion(System.currentTimeMillis() / 1000.0))
    }

    /** Writes scalars [values] (tag to value) logged at [step]. */
    public fun scalars(
        step: Long,
        values: Map<String, Double>,
        wallTime: Double = System.currentTimeMillis() / 1000.0,
    ) {
        if (values.isEmpty()) return
        write(EventProto.scalars(wallTime, step, values))
    }

    /** Pushes what is written to the file, so TensorBoard sees it while the run goes on. */
    public fun flush(): Unit = out.flush()

    override fun close(): Unit = out.close()

    private fun write(event: ByteArray) {
        val length =
            ByteBuffer.allocate(8)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(event.size.toLong())
                .array()
        out.write(length)
        out.write(int32(maskedCrc(length)))
        out.write(event)
        out.write(int32(maskedCrc(event)))
    }

    public companion object {
        /**
         * TFRecord's CRC: CRC32C, rotated right by 15 bits plus a constant (so a CRC of CRCs stays
         * strong).
         */
        public fun maskedCrc(bytes: ByteArray): Int {
            val crc = CRC32C().apply { update(bytes) }.value.toInt()
            return ((crc ushr 15) or (crc shl 17)) + 0xa282ead8L.toInt()
        }

        /** A new event file in [dir], named as TensorBoard looks for them. */
        public fun create(dir: Path): EventFile {
            Files.createDirectories(dir)
            val host =
                runCatching { java.net.InetAddress.getLocalHost().hostName }
                    .getOrDefault("localhost")
                    .replace(Regex("[^A-Za-z0-9._-]"), "_")
            return EventFile(
                dir.resolve("events.out.tfevents.${System.currentTimeMillis() / 1000}.$host")
            )
        }

        private fun int32(value: Int) =
            ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array()
    }
}
