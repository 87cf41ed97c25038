package looplab.pipelines.compare

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long
import looplab.dsl.UserFacingError
import looplab.pipelines.eval.Suite
import looplab.pipelines.run.RESULTS_SCHEMA
import looplab.pipelines.run.RunRecorder
import looplab.pipelines.run.RunSummary
import looplab.pipelines.run.SuiteResults

/** A run folder that cannot be compared; the message names the folder and the problem. */
public class RunRecordException(message: String) :
    IllegalArgumentException(message), UserFacingError

/** One seed's run as recorded: its summary and the results of every suite it has. */
public class SeedRecord(
    public val dir: Path,
    public val experiment: String,
    public val seed: Long,
    public val summary: RunSummary,
    public val suites: Map<String, SuiteResults>,
)

/** Reads run folders: a run, or a folder of one run per seed (`seed-<seed>/`). */
public object RunRecords {
    @JvmStatic
    public fun load(dirs: List<Path>): List<SeedRecord> =
        dirs.flatMap { dir ->
            when {
                Files.isRegularFile(dir.resolve("summary.json")) -> listOf(read(dir))
                Files.isDirectory(dir) -> {
                    val seeds =
                        Files.list(dir).use { s ->
                            s.filter {
                                    it.fileName.toString().startsWith("seed-") &&
                                        Files.isRegularFile(it.resolve("summary.json"))
                                }
                                .sorted()
                                .toList()
                        }
                    if (seeds.isEmpty())
                        throw RunRecordException(
                            "$dir: not a looplab run folder (no summary.json, no seed-*/ runs)"
                        )
                    seeds.map(::read)
                }
                else -> throw RunRecordException("$dir: no such folder")
            }
        }

    private fun read(dir: Path): SeedRecord {
        val summary =
            parse(dir.resolve("summary.json")) {
                RunRecorder.pretty.decodeFromString(RunSummary.serializer(), it)
            }
        val seed =
            parse(dir.resolve("plan.json")) {
                Json.parseToJsonElement(it)
                    .jsonObject
                    .getValue("experiment")
                    .jsonObject
                    .getValue("seed")
                    .jsonPrimitive
                    .long
            }
        val suites =
            Suite.entries
                .mapNotNull { suite ->
                    val file = dir.resolve("results_${suite.id}.json")
                    if (!Files.isRegularFile(file)) return@mapNotNull null
                    // The version is read first: an older layout would not decode, and deserves a
                    // clearer word than a parse error.
                    val version =
                        parse(file) { text ->
                            Json.parseToJsonElement(text)
                                .jsonObject["metadata"]
                                ?.jsonObject
                                ?.get("schemaVersion")
                                ?.jsonPrimitive
                                ?.int ?: 1
                        }
                    if (version != RESULTS_SCHEMA) {
                        throw RunRecordException(
                            "$file: results schema version $version, this looplab reads $RESULTS_SCHEMA (measure again with `looplab eval $dir --suite ${suite.id}`)"
                        )
                    }
                    val results =
                        parse(file) {
                            RunRecorder.pretty.decodeFromString(SuiteResults.serializer(), it)
                        }
                    suite.id to results
                }
                .toMap()
        return SeedRecord(dir, summary.experiment, seed, summary, suites)
    }

    private fun <T> parse(file: Path, read: (String) -> T): T {
        if (!Files.isRegularFile(file)) throw RunRecordException("$file is missing")
        return try {
            read(Files.readString(file))
        } catch (e: Exception) {
            throw RunRecordException("$file cannot be read: ${e.message?.lineSequence()?.first()}")
        }
    }
}
