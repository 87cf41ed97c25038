package looplab.pipelines.sft

import looplab.curriculum.chat.AnswerReward
import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.chat.Conversation
import looplab.curriculum.text.Tokenizer
import looplab.pipelines.eval.Completer
import looplab.pipelines.metrics.AccuracyCell

/** What the model answered to one held-out conversation. */
public data class ChatAnswer(
    val completion: String,
    val reference: String,
    val wellFormed: Boolean,
    val correct: Boolean,
)

/**
 * Measures a chat model on held-out conversations of a [ChatMixture], decoding greedily (through
 * [completer], KV-cached): the prompt is the conversation up to the last `<|assistant|>` tag.
 * - `format`: the completion ends (emits the end token) after exactly one closed answer block
 *   holding an answer without surrounding whitespace, nothing after it
 *   ([AnswerReward.strictAnswer]);
 * - `answer`: the text strictly inside that block equals the reference exactly.
 *
 * Both are reported in distribution (`iid`, held-out seeds of the training generators) and out of
 * it (`ood`, the generators' out-of-distribution split), as [AccuracyCell]s of tasks `format` and
 * `answer` (length 0), so records, tables and plots show them like any accuracy.
 */
public class ChatEvaluator(
    private val mixture: ChatMixture,
    private val template: ChatTemplate,
    private val tokenizer: Tokenizer,
    private val completer: Completer,
    /** Prompt plus completion never exceed this (the model's context length). */
    private val contextLength: Int,
) {
    public fun evaluate(samples: Int): List<AccuracyCell> =
        splits(samples).flatMap { (split, conversations) ->
            val answers = answers(conversations)
            listOf(
                AccuracyCell(FORMAT, 0, split, answers.count { it.wellFormed }, answers.size),
                AccuracyCell(ANSWER, 0, split, answers.count { it.correct }, answers.size),
            )
        }

    /** The held-out conversations of each split that have a reference answer. */
    public fun splits(samples: Int): List<Pair<String, List<Conversation>>> =
        listOf(
                "iid" to (0 until samples).map { mixture.heldOut(it.toLong()) },
                "ood" to (0 until samples).mapNotNull { mixture.outOfDistribution(it.toLong()) },
            )
            .map { (split, all) -> split to all.filter { it.answer != null } }
            .filter { it.second.isNotEmpty() }

    /** The model's answer to each of [conversations], in batches of [BATCH]. */
    public fun answers(conversations: List<Conversation>): List<ChatAnswer> =
        conversations.chunked(BATCH).flatMap { chunk ->
            val prompts = chunk.map(template::prompt)
            // Enough new tokens for the reference completion and a little more, within the context.
            val needed =
                chunk.maxOf { template.render(it).size } - prompts.minOf { it.size } + MARGIN
            val budget = minOf(needed, contextLength - prompts.maxOf { it.size })
            val completions =
                if (budget <= 0) chunk.map { IntArray(0) } else completer.complete(prompts, budget)
            chunk.indices.map { i ->
                val text = tokenizer.decode(completions[i])
                // A completion as long as the budget never emitted its end token.
                val ended = budget > 0 && completions[i].size < budget
                val answer = AnswerReward.strictAnswer(text)
                val wellFormed =
                    ended && answer != null && answer.isNotEmpty() && answer == answer.trim()
                ChatAnswer(
                    text,
                    chunk[i].answer!!,
                    wellFormed,
                    wellFormed && answer == chunk[i].answer,
                )
            }
        }

    public companion object {
        public const val FORMAT: String = "format"
        public const val ANSWER: String = "answer"
        private const val BATCH = 32
        private const val MARGIN = 8
    }
}
