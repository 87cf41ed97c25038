package looplab.curriculum.chat

import kotlin.random.Random

/** In distribution (the ranges trained on) or out of it (larger numbers, longer inputs). */
public enum class ChatSplit {
    InDistribution,
    OutOfDistribution,
}

/**
 * Makes conversations procedurally. Implement it to add your own: give it an [id] (what
 * `generator("id")` names in a stage's data) and draw everything from the random source you are
 * handed, so that a conversation is reproducible from its seed. Attach it to the experiment in a
 * script with `experiment("x") { ... }.withChatGenerators(MyGenerator)`.
 */
public interface ChatGenerator {
    public val id: String

    /** A conversation of [split], drawn from [random] only. */
    public fun sample(random: Random, split: ChatSplit): Conversation
}
