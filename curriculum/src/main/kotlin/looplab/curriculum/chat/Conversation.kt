package looplab.curriculum.chat

import looplab.curriculum.text.ChatTags

/** One turn of a conversation: the user's or the assistant's. */
public sealed interface Turn

/** What the user says. */
public data class UserTurn(val text: String) : Turn

/**
 * What the assistant says: optional reasoning ([think], inside the think tags), optional free
 * [text], and an optional final [answer] (inside the answer tags, the part verifiers compare).
 */
public data class AssistantTurn(
    val text: String = "",
    val think: String? = null,
    val answer: String? = null,
) : Turn

/**
 * A conversation: an optional [system] message, then user and assistant turns alternating, starting
 * with the user and ending with the assistant (the turn SFT trains on and GRPO samples).
 */
public data class Conversation(val system: String?, val turns: List<Turn>) {
    /** The reference answer: the last assistant turn's [AssistantTurn.answer], if any. */
    public val answer: String?
        get() = (turns.lastOrNull() as? AssistantTurn)?.answer

    /** What is wrong with this conversation, one message each (empty when it is well-formed). */
    public fun problems(): List<String> = buildList {
        if (turns.isEmpty()) add("has no turns")
        turns.forEachIndexed { i, turn ->
            val expected = if (i % 2 == 0) "user" else "assistant"
            val actual = if (turn is UserTurn) "user" else "assistant"
            if (expected != actual)
                add(
                    "turn $i is the $actual's, but turns alternate user, assistant, ... starting with the user"
                )
        }
        if (turns.isNotEmpty() && turns.last() !is AssistantTurn)
            add("ends with the user's turn; it must end with the assistant's")
        system?.let { checkText("system", it) }
        turns.forEachIndexed { i, turn ->
            when (turn) {
                is UserTurn -> checkText("turn $i", turn.text)
                is AssistantTurn -> {
                    checkText("turn $i text", turn.text)
                    turn.think?.let { checkText("turn $i think", it) }
                    turn.answer?.let { checkText("turn $i answer", it) }
                    if (turn.text.isEmpty() && turn.think == null && turn.answer == null)
                        add("turn $i (the assistant's) is empty")
                }
            }
        }
    }

    // A tag inside text would be read as structure: the template alone writes tags.
    private fun MutableList<String>.checkText(where: String, text: String) {
        ChatTags.all
            .firstOrNull { it in text }
            ?.let {
                add(
                    "$where contains the chat tag $it; tags are written by the template, not by the text"
                )
            }
    }

    public companion object {
        /** A question and its answer, with optional reasoning, after an optional system message. */
        @JvmStatic
        @JvmOverloads
        public fun qa(
            question: String,
            answer: String,
            think: String? = null,
            system: String? = null,
        ): Conversation =
            Conversation(
                system,
                listOf(UserTurn(question), AssistantTurn(think = think, answer = answer)),
            )
    }
}
