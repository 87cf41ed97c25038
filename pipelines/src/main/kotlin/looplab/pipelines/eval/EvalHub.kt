package looplab.pipelines.eval

import java.nio.file.Files
import java.nio.file.Path
import java.time.LocalDateTime
import looplab.curriculum.language.CorpusLoader
import looplab.dsl.AlgorithmicEvalSpec
import looplab.dsl.ChatEvalSpec
import looplab.dsl.EvalSpec
import looplab.dsl.LanguageEvalSpec
import looplab.dsl.LoopEvalSpec
import looplab.dsl.ModelSpec
import looplab.dsl.NeedleEvalSpec
import looplab.dsl.SpecJson
import looplab.models.LanguageModel
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.plan.Plan
import looplab.pipelines.plan.ResolvedData
import looplab.pipelines.run.Decoding
import looplab.pipelines.run.RESULTS_SCHEMA
import looplab.pipelines.run.ResultsMetadata
import looplab.pipelines.run.RunDirectory
import looplab.pipelines.run.RunRecorder
import looplab.pipelines.run.SuiteEntry
import looplab.pipelines.run.SuiteResults

/** The evaluation suites, by the name results files and the CLI use. */
public enum class Suite(public val id: String) {
    Algorithmic("algorithmic"),
    LongCtx("longctx"),
    Lm("lm"),
    Loops("loops"),
    Chat("chat");

    public companion object {
        public fun of(id: String): Suite? = entries.firstOrNull { it.id == id }
    }
}

/**
 * Each suite's settings for one evaluation: an eval stage's, and the defaults for those it does not
 * name.
 */
public data class SuiteSettings(
    val algorithmic: AlgorithmicEvalSpec = AlgorithmicEvalSpec(),
    val needles: NeedleEvalSpec = NeedleEvalSpec(),
    val language: LanguageEvalSpec = LanguageEvalSpec(),
    val loops: LoopEvalSpec = LoopEvalSpec(),
    val chat: ChatEvalSpec = ChatEvalSpec(),
) {
    public companion object {
        public fun of(stage: EvalSpec?): SuiteSettings =
            SuiteSettings(
                stage?.algorithmic ?: AlgorithmicEvalSpec(),
                stage?.needles ?: NeedleEvalSpec(),
                stage?.language ?: LanguageEvalSpec(),
                stage?.loops ?: LoopEvalSpec(),
                stage?.chat ?: ChatEvalSpec(),
            )

        /** The suites an eval stage names. */
        public fun named(stage: EvalSpec): List<Suite> =
            listOfNotNull(
                Suite.Algorithmic.takeIf { stage.algorithmic != null },
                Suite.LongCtx.takeIf { stage.needles != null },
                Suite.Lm.takeIf { stage.language != null },
                Suite.Loops.takeIf { stage.loops != null },
                Suite.Chat.takeIf { stage.chat != null },
            )
    }
}

/** What a suite measured on one model, or why it measured nothing. */
public sealed interface SuiteOutcome {
    public class Measured(public val entry: SuiteEntry, public val plot: ByteArray?) : SuiteOutcome

    public class Skipped(public val reason: String) : SuiteOutcome
}

/**
 * Runs the evaluation suites on a trained model of a planned experiment: for the eval stages of a
 * run and for `looplab eval` on a run folder's checkpoints alike, so both write the same records.
 */
public class EvalHub(
    private val plan: Plan,
    private val data: ResolvedData,
    private val backend: EagerBackend,
) {
    private val experiment = plan.experiment

    /**
     * Measures [suite] on [model] (weights in [store], from stage [from], checksum [checkpoint]).
     */
    public fun measure(
        suite: Suite,
        settings: SuiteSettings,
        spec: ModelSpec,
        model: LanguageModel,
        store: ParameterStore,
        stage: String,
        from: String,
        checkpoint: String,
    ): SuiteOutcome {
        val completer = Completers.greedy(model, store, backend, data.tokenizer.eos)
        fun entry() = SuiteEntry(spec.name, stage, from, experiment.seed, checkpoint)
        return when (suite) {
            Suite.Algorithmic -> {
                val mixture =
                    data.mixture
                        ?: return SuiteOutcome.Skipped("the experiment has no algorithmic tasks")
                val a = settings.algorithmic
                SuiteOutcome.Measured(
                    entry()
                        .copy(
                            cells =
                                AlgorithmicEvaluator(completer, data.tokenizer, experiment.seed)
                                    .evaluate(mixture.tasks, a.samples, a.maxNewTokens)
                        ),
                    null,
                )
            }
            Suite.LongCtx -> {
                val n = settings.needles
                val filler = CorpusLoader.load(n.corpus).documents.joinToString(" ")
                val generator =
                    NeedleGenerator(data.tokenizer, filler, NeedleFormat(digits = n.digits))
                val results =
                    NeedleEvaluator(completer, generator, spec.contextLength, experiment.seed)
                        .evaluate(n.lengths, n.depths, n.samples)
                SuiteOutcome.Measured(
                    entry().copy(needles = results),
                    EvalPlots.needles(results, "${spec.name} ($stage)"),
                )
            }
            Suite.Lm -> {
                val language =
                    data.language
                        ?: return SuiteOutcome.Skipped("the experiment has no language data")
                val window = data.lengths.lengths.max()
                val stride = settings.language.stride ?: window
                if (stride > window)
                    return SuiteOutcome.Skipped(
                        "stride $stride is longer than the window of $window tokens"
                    )
                val score =
                    SlidingWindowEvaluator(model, store, backend, data.tokenizer)
                        .evaluate(language.validation, window, stride, settings.language.maxTokens)
                SuiteOutcome.Measured(entry().copy(language = score), null)
            }
            Suite.Loops -> {
                val l = settings.loops
                if (data.mixture == null && data.language == null)
                    return SuiteOutcome.Skipped("the experiment has no data to score")
                val curves =
                    LoopSuite(model, store, backend, data.tokenizer, experiment.seed)
                        .evaluate(
                            data.mixture?.tasks.orEmpty(),
                            l.samples,
                            data.language?.validation,
                            data.lengths.lengths.max(),
                            l.maxTokens,
                            l.multiples,
                        )
                SuiteOutcome.Measured(
                    entry().copy(loops = curves),
                    EvalPlots.loops(curves, "${spec.name} ($stage)"),
                )
            }
            Suite.Chat -> {
                val chat =
                    ChatSuite.data(settings.chat, experiment.pipeline, from)
                        ?: return SuiteOutcome.Skipped(
                            "no chat data: neither the suite names any nor do the weights come from an sft or grpo stage"
                        )
                val cells =
                    ChatSuite.measure(
                        chat,
                        settings.chat.samples,
                        experiment.seed,
                        data,
                        completer,
                        spec.contextLength,
                    )
                SuiteOutcome.Measured(entry().copy(cells = cells), null)
            }
        }
    }

    /** The metadata of [suite]'s results under [settings]. */
    public fun metadata(suite: Suite, settings: SuiteSettings): ResultsMetadata {
        val grid = plan.data.tasks.joinToString(";") { "${it.task}:${it.train}:${it.ood}" }
        val json = SpecJson.json
        val (version, decoding) =
            when (suite) {
                // The algorithmic version keeps the form it had before the other suites, so older
                // results still compare.
                Suite.Algorithmic ->
                    "looplab-grid-1-" + hex(grid) to
                        settings.algorithmic.let {
                            Decoding("greedy", 0.0, it.maxNewTokens, it.samples)
                        }
                Suite.LongCtx ->
                    "looplab-needles-1-" +
                        hex(
                            json.encodeToString(NeedleEvalSpec.serializer(), settings.needles) +
                                NeedleFormat()
                        ) to
                        Decoding("greedy", 0.0, settings.needles.digits, settings.needles.samples)
                Suite.Lm ->
                    "looplab-lm-1-" +
                        hex(
                            json.encodeToString(LanguageEvalSpec.serializer(), settings.language) +
                                experiment.data.language +
                                experiment.data.tokenizer
                        ) to null
                Suite.Loops ->
                    "looplab-loops-1-" +
                        hex(
                            grid +
                                json.encodeToString(LoopEvalSpec.serializer(), settings.loops) +
                                experiment.data.language
                        ) to Decoding("teacher-forced argmax", 0.0, 0, settings.loops.samples)
                // New tokens: as many as each batch's longest reference completion needs, plus 8.
                Suite.Chat ->
                    "looplab-chat-1-" +
                        hex(json.encodeToString(ChatEvalSpec.serializer(), settings.chat)) to
                        Decoding("greedy", 0.0, 0, settings.chat.samples)
            }
        return ResultsMetadata(
            schemaVersion = RESULTS_SCHEMA,
            suite = suite.id,
            experiment = experiment.name,
            commit = looplab.pipelines.run.BuildInfo.commit,
            seed = experiment.seed,
            gridVersion = version,
            decoding = decoding,
            created = LocalDateTime.now().toString(),
        )
    }

    public companion object {
        private fun hex(text: String): String = Integer.toHexString(text.hashCode())

        /** The file a suite's results go to. */
        @JvmStatic public fun fileName(suite: Suite): String = "results_${suite.id}.json"

        /**
         * [suite]'s results in the run folder [dir], or null when it has none; a file that does not
         * decode throws (`looplab compare` reads them with schema checks and clear errors instead).
         */
        @JvmStatic
        public fun read(dir: Path, suite: Suite): SuiteResults? =
            dir.resolve(fileName(suite))
                .takeIf { Files.exists(it) }
                ?.let {
                    RunRecorder.pretty.decodeFromString(
                        SuiteResults.serializer(),
                        Files.readString(it),
                    )
                }

        /**
         * Writes [entries] to [suite]'s results file in [dir], keeping entries of other (variant,
         * stage) pairs already there, so evaluating one variant never drops another's results.
         */
        @JvmStatic
        public fun write(
            dir: RunDirectory,
            suite: Suite,
            metadata: ResultsMetadata,
            entries: List<SuiteEntry>,
        ): SuiteResults {
            // An unreadable file is replaced rather than merged.
            val kept =
                runCatching { read(dir.root, suite) }
                    .getOrNull()
                    ?.results
                    .orEmpty()
                    .filter { old ->
                        entries.none { it.variant == old.variant && it.stage == old.stage }
                    }
            val results = SuiteResults(metadata, kept + entries)
            dir.write(
                fileName(suite),
                RunRecorder.pretty.encodeToString(SuiteResults.serializer(), results) + "\n",
            )
            return results
        }
    }
}
