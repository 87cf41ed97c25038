package looplab.pipelines.generate

import looplab.curriculum.text.ChatTags
import looplab.curriculum.text.Tokenizer
import looplab.models.decode.Generator
import looplab.models.decode.SamplingConfig

/**
 * A conversation with a model in seed 004's chat format: `<|user|>message<|assistant|>reply`, turn
 * after turn, after one BOS. A reply ends at EOS or where the model starts the next user turn;
 * `<|think|>` and `<|answer|>` sections are shown as the model writes them. The history is kept to
 * the model's context: the oldest turns are dropped first.
 */
public class ChatSession(
    private val generator: Generator,
    private val tokenizer: Tokenizer,
    private val config: SamplingConfig,
    /** Tokens the model can attend to; the prompt plus the reply stay within it. */
    private val context: Int,
) {
    private val turns = mutableListOf<IntArray>()
    private val userTag = tokenizer.specialId(ChatTags.USER)
    private val assistantTag = tokenizer.specialId(ChatTags.ASSISTANT)
    private val stops = config.stopTokens + tokenizer.eos + listOfNotNull(userTag)

    /** Forgets the conversation. */
    public fun reset() {
        turns.clear()
    }

    /**
     * The model's reply to [message], streamed to [onText] as it is generated; returns the whole
     * reply.
     */
    public fun reply(message: String, onText: (String) -> Unit): String {
        val user =
            tag(userTag, ChatTags.USER) +
                tokenizer.encode(message) +
                tag(assistantTag, ChatTags.ASSISTANT)
        val budget = minOf(config.maxNewTokens, context - 2)
        var history = turns.toList()
        while (
            history.isNotEmpty() && 1 + history.sumOf { it.size } + user.size + budget > context
        ) history = history.drop(1)
        val prompt = intArrayOf(tokenizer.bos) + history.flatMap { it.asIterable() } + user
        val room = context - prompt.size
        if (room < 1)
            throw GenerationInputException(
                "the message is ${user.size} tokens long: no room left in the model's context of $context tokens"
            )
        val stream = TextStream(tokenizer, onText)
        val reply =
            generator
                .generate(
                    listOf(prompt.takeLast(context).toIntArray()),
                    config.copy(maxNewTokens = minOf(budget, room), stopTokens = stops),
                ) { _, token ->
                    stream.add(token)
                }
                .single()
        stream.finish()
        turns.clear()
        turns += history
        turns += user + reply + tokenizer.eos
        return tokenizer.decode(reply)
    }

    /** The tag's single token, or its text encoded when the tokenizer has no such token. */
    private fun tag(id: Int?, text: String): IntArray =
        id?.let { intArrayOf(it) } ?: tokenizer.encode(text)
}
