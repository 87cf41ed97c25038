package looplab.curriculum.chat

import looplab.curriculum.text.ChatTags
import looplab.curriculum.text.Tokenizer
import looplab.dsl.UserFacingError

/** A tokenizer that cannot render chats (it has no single-token chat tags). */
public class ChatTemplateException(message: String) :
    IllegalArgumentException(message), UserFacingError

/**
 * A conversation as token ids, and for each token whether the model is trained to produce it: true
 * exactly on the assistant's tokens after its opening tag, through its end-of-sequence token.
 */
public class RenderedChat(public val ids: IntArray, public val trained: BooleanArray) {
    init {
        require(ids.size == trained.size) { "ids and trained flags differ in length" }
    }

    public val size: Int
        get() = ids.size
}

/**
 * The chat template, on a tokenizer whose chat tags are single tokens:
 *
 *     BOS [<|system|> system] ( <|user|> text <|assistant|> [<|think|> think <|/think|>] text [<|answer|> answer <|/answer|>] EOS )+
 *
 * Only the assistant's part after `<|assistant|>` is trained, its tags and the closing EOS included
 * (so the model learns to stop); BOS, the system's and the user's tokens and the `<|assistant|>`
 * tag itself are given, never predicted.
 */
public class ChatTemplate(private val tokenizer: Tokenizer) {
    private val tag: Map<String, Int> =
        ChatTags.all.associateWith { t ->
            tokenizer.specialId(t)
                ?: throw ChatTemplateException(
                    "the tokenizer has no single token for the chat tag $t: chat stages need a tokenizer with chat tags (bytes, gpt2, cl100k, neox, bpe, or a tokenizer.json that defines them)"
                )
        }

    /** [conversation] rendered, with the trained flags. */
    public fun render(conversation: Conversation): RenderedChat {
        val out = Builder()
        out.given(tokenizer.bos)
        conversation.system?.let {
            out.given(tag.getValue(ChatTags.SYSTEM))
            out.given(tokenizer.encode(it))
        }
        for (turn in conversation.turns) when (turn) {
            is UserTurn -> {
                out.given(tag.getValue(ChatTags.USER))
                out.given(tokenizer.encode(turn.text))
            }
            is AssistantTurn -> {
                out.given(tag.getValue(ChatTags.ASSISTANT))
                assistant(turn, out)
                out.trained(tokenizer.eos)
            }
        }
        return out.build()
    }

    /**
     * The tokens a model is given to answer the last assistant turn: the conversation up to and
     * including that turn's `<|assistant|>` tag (what generation continues from in GRPO and
     * evaluation).
     */
    public fun prompt(conversation: Conversation): IntArray {
        val rendered = render(conversation)
        val firstOfLast =
            rendered.trained.indices.last { i ->
                rendered.trained[i] && (i == 0 || !rendered.trained[i - 1])
            }
        return rendered.ids.copyOfRange(0, firstOfLast)
    }

    private fun assistant(turn: AssistantTurn, out: Builder) {
        turn.think?.let {
            out.trained(tag.getValue(ChatTags.THINK))
            out.trained(tokenizer.encode(it))
            out.trained(tag.getValue(ChatTags.END_THINK))
        }
        if (turn.text.isNotEmpty()) out.trained(tokenizer.encode(turn.text))
        turn.answer?.let {
            out.trained(tag.getValue(ChatTags.ANSWER))
            out.trained(tokenizer.encode(it))
            out.trained(tag.getValue(ChatTags.END_ANSWER))
        }
    }

    private class Builder {
        private val ids = ArrayList<Int>()
        private val flags = ArrayList<Boolean>()

        fun given(id: Int) {
            ids += id
            flags += false
        }

        fun given(more: IntArray) = more.forEach(::given)

        fun trained(id: Int) {
            ids += id
            flags += true
        }

        fun trained(more: IntArray) = more.forEach(::trained)

        fun build() = RenderedChat(ids.toIntArray(), flags.toBooleanArray())
    }
}
