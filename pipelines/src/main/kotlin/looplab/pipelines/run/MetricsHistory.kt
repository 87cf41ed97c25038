package looplab.pipelines.run

import java.nio.file.Files
import looplab.dsl.UserFacingError
import looplab.pipelines.metrics.MetricEvent

/** A run folder's record cannot be read; the message names the file and line. */
public class RunFolderException(message: String) : RuntimeException(message), UserFacingError

/** Reads what a run folder's `metrics.jsonl` already holds, for a resumed run to continue. */
internal object MetricsHistory {
    /**
     * The recorded events. A last line cut short by a crash (no newline, or not valid JSON) is
     * dropped, the file rewritten without it and [note] told; damage anywhere else is an error
     * naming the line.
     */
    fun read(dir: RunDirectory, note: (String) -> Unit): List<MetricEvent> {
        val file = dir.file(RunRecorder.METRICS)
        if (!Files.exists(file)) return emptyList()
        val text =
            try {
                String(Files.readAllBytes(file), Charsets.UTF_8)
            } catch (e: java.io.IOException) {
                throw RunFolderException("$file cannot be read: ${e.message}")
            }
        val lines = text.split("\n")
        // split leaves "" after a final newline; anything else there is a line the crash cut short.
        val complete = lines.dropLast(1)
        val tail = lines.last()
        val events = mutableListOf<MetricEvent>()
        var dropped: String? = if (tail.isNotBlank()) tail else null
        complete.forEachIndexed { index, line ->
            if (line.isBlank()) return@forEachIndexed
            val event = decode(line)
            when {
                event != null -> events += event
                index == complete.lastIndex && dropped == null -> dropped = line
                else ->
                    throw RunFolderException(
                        "$file:${index + 1} is not a metrics record (${line.take(60)}…): the file is damaged; move it aside to resume without the record"
                    )
            }
        }
        // A tail without a newline that still parses was written whole but for its newline: keep
        // it.
        if (dropped != null && dropped == tail)
            decode(tail)?.let {
                events += it
                dropped = null
            }
        if (dropped != null) {
            note(
                "$file: dropped its last line, cut short when the run stopped (${dropped!!.take(60)}…)"
            )
            dir.write(
                RunRecorder.METRICS,
                events.joinToString("") {
                    RunRecorder.compact.encodeToString(MetricEvent.serializer(), it) + "\n"
                },
            )
        } else if (tail.isNotEmpty()) {
            // Make sure the next appended line starts on a line of its own.
            dir.write(
                RunRecorder.METRICS,
                events.joinToString("") {
                    RunRecorder.compact.encodeToString(MetricEvent.serializer(), it) + "\n"
                },
            )
        }
        return events
    }

    private fun decode(line: String): MetricEvent? =
        try {
            RunRecorder.compact.decodeFromString(MetricEvent.serializer(), line)
        } catch (e: Exception) {
            null
        }
}
