package looplab.pipelines.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.core.terminal
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.groups.OptionGroup
import com.github.ajalt.clikt.parameters.groups.provideDelegate
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.multiple
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.options.required
import com.github.ajalt.clikt.parameters.types.double
import com.github.ajalt.clikt.parameters.types.enum
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.long
import com.github.ajalt.clikt.parameters.types.path
import looplab.curriculum.text.Tokenizer
import looplab.dsl.Backend
import looplab.models.decode.SamplingConfig
import looplab.models.eager.EagerBackend
import looplab.pipelines.generate.ChatSession
import looplab.pipelines.generate.TextStream
import looplab.pipelines.generate.TrainedModel

/** Which trained model to load: the run folder, its variant and stage, and where to run it. */
internal class ModelChoice : OptionGroup("Model") {
    val variant by
        option("--variant", help = "The variant to load (optional when the run has one).")
    val stage by
        option(
            "--stage",
            help = "The training stage whose checkpoint to load (default: the last one finished).",
        )
    val backend by
        option("--backend", help = "eager or compiled (default: the run's).").enum<Backend> {
            it.name.lowercase()
        }
    val gpu by option("--gpu", help = "GPU index; without it, the CPU.").int()
}

/** The sampling flags shared by `generate` and `chat`. */
internal class SamplingFlags(defaultMaxNew: Int) : OptionGroup("Sampling") {
    val maxNewTokens by
        option("--max-new-tokens", help = "Tokens to generate at most.")
            .int()
            .default(defaultMaxNew)
    val temperature by
        option("--temperature", help = "0 (default): greedy; otherwise sample at this temperature.")
            .double()
            .default(0.0)
    val topK by
        option("--top-k", help = "Sample among the k most likely tokens (0: all).").int().default(0)
    val topP by
        option(
                "--top-p",
                help = "Sample within the smallest set of tokens of this much probability (1: all).",
            )
            .double()
            .default(1.0)
    val repetitionPenalty by
        option(
                "--repetition-penalty",
                help = "Penalise tokens already present (1: none; 1.1-1.3 is usual).",
            )
            .double()
            .default(1.0)
    val stop by
        option(
                "--stop",
                help =
                    "Stop at this text (a single token, e.g. a chat tag); repeatable. EOS always stops.",
            )
            .multiple()
    val seed by
        option("--seed", help = "Seed of the sampler: the same seed gives the same text.")
            .long()
            .default(0)

    fun config(tokenizer: Tokenizer): SamplingConfig {
        val stops =
            stop
                .map { text ->
                    tokenizer.specialId(text)
                        ?: tokenizer.encode(text).singleOrNull()
                        ?: throw UsageError(
                            "--stop \"$text\" is ${tokenizer.encode(text).size} tokens for this tokenizer; a stop must be one token"
                        )
                }
                .toSet() + tokenizer.eos
        return try {
            SamplingConfig(maxNewTokens, temperature, topK, topP, repetitionPenalty, stops, seed)
        } catch (e: IllegalArgumentException) {
            throw UsageError(e.message!!)
        }
    }
}

/** Loads the chosen model on a backend of its own for [block]. */
private fun <T> withModel(
    runDir: java.nio.file.Path,
    choice: ModelChoice,
    block: (TrainedModel) -> T,
): T =
    EagerBackend(EagerBackend.device(choice.gpu)).use { backend ->
        TrainedModel.load(runDir, choice.variant, choice.stage, backend, choice.backend).use(block)
    }

/** `looplab generate`: continue a prompt with a trained model, streaming the text. */
public class GenerateCommand : CliktCommand(name = "generate") {
    override fun help(context: Context): String =
        "Continue a prompt with a trained variant of a run (KV-cached decoding), printing the text as it is generated."

    private val runDir by argument(help = "A run folder (runs/<experiment>/<time>).").path()
    private val prompt by
        option(
                "--prompt",
                help = "The text to continue (chat tags such as <|user|> are single tokens).",
            )
            .required()
    private val choice by ModelChoice()
    private val sampling by SamplingFlags(defaultMaxNew = 64)

    override fun run(): Unit = reportingErrors {
        withModel(runDir, choice) { trained ->
            val tokenizer = trained.tokenizer
            val ids = intArrayOf(tokenizer.bos) + tokenizer.encode(prompt)
            val config = sampling.config(tokenizer)
            echo(prompt, trailingNewline = false)
            val stream = TextStream(tokenizer) { echo(it, trailingNewline = false) }
            trained.generator().generate(listOf(ids), config) { _, token -> stream.add(token) }
            stream.finish()
            echo("")
        }
    }
}

/** `looplab chat`: talk to a trained model; `/reset` forgets the conversation, `/exit` ends it. */
public class ChatCommand : CliktCommand(name = "chat") {
    override fun help(context: Context): String =
        "Chat with a trained variant of a run, in the <|user|>/<|assistant|> format; type /reset to start over and /exit (or end of input) to quit."

    private val runDir by argument(help = "A run folder (runs/<experiment>/<time>).").path()
    private val choice by ModelChoice()
    private val sampling by SamplingFlags(defaultMaxNew = 128)

    override fun run(): Unit = reportingErrors {
        withModel(runDir, choice) { trained ->
            val session =
                ChatSession(
                    trained.generator(),
                    trained.tokenizer,
                    sampling.config(trained.tokenizer),
                    trained.spec.contextLength,
                )
            echo(
                "Chatting with ${trained.spec.name} (stage ${trained.stage}). /reset starts over, /exit quits."
            )
            while (true) {
                echo("you> ", trailingNewline = false)
                val line = terminal.readLineOrNull(false)?.trim() ?: break
                when {
                    line == "/exit" -> break
                    line == "/reset" -> {
                        session.reset()
                        echo("(conversation reset)")
                    }
                    line.isEmpty() -> continue
                    else -> {
                        echo("${trained.spec.name}> ", trailingNewline = false)
                        session.reply(line) { echo(it, trailingNewline = false) }
                        echo("")
                    }
                }
            }
            echo("bye")
        }
    }
}
