package looplab.pipelines.sft

import kotlin.math.floor
import looplab.curriculum.chat.ChatBatch
import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatPacker
import looplab.curriculum.chat.ChatSources
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.chat.ChatTemplateException
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.Tokenizer
import looplab.dsl.SftSpec
import looplab.dsl.SpecChecker

/**
 * An SFT stage's chat data, ready to train on: batch `i` renders training conversations `i·n …
 * i·n + n − 1` of the mixture (n = [conversationsPerStep]) and lays them into rows, so a batch is a
 * pure function of its index and a resumed stage reads exactly the batches it would have. Without
 * packing a step is [SftSpec.batchSize] rows of one conversation each; with packing it reads as
 * many conversations as fill that many rows on average (the row count varies a little).
 */
public class SftData(
    public val mixture: ChatMixture,
    public val template: ChatTemplate,
    private val packer: ChatPacker,
    public val conversationsPerStep: Int,
    /** Mean rendered length of a training conversation, in tokens (from a sample of [SAMPLE]). */
    public val meanConversation: Double,
    /** The longest rendered conversation of that sample. */
    public val longestConversation: Int,
) {
    public fun batch(step: Long): ChatBatch {
        val first = step * conversationsPerStep
        return packer.batch(
            packer.rows(List(conversationsPerStep) { template.render(mixture.train(first + it)) })
        )
    }

    /**
     * [count] batches of held-out conversations (never trained on), laid out like training batches.
     */
    public fun validationBatches(count: Int): List<ChatBatch> =
        (0 until count).map { b ->
            val first = b.toLong() * conversationsPerStep
            packer.batch(
                packer.rows(
                    List(conversationsPerStep) { template.render(mixture.heldOut(first + it)) }
                )
            )
        }

    public companion object {
        /** Conversations rendered to measure lengths. */
        public const val SAMPLE: Int = 256

        /**
         * The data of [stage] for a model of [contextLength], or null with the problems recorded in
         * [check] (unknown tasks, unreadable files, a tokenizer without chat tags, conversations
         * that do not fit the context). Relative JSONL paths resolve against the working directory.
         */
        @JvmStatic
        public fun resolve(
            stage: SftSpec,
            seed: Long,
            tokenizer: Tokenizer,
            tasks: TaskRegistry,
            contextLength: Int,
            check: SpecChecker,
        ): SftData? {
            val mixture =
                ChatSources.resolve(stage.data, seed, tasks, check.at("data")) ?: return null
            val template =
                try {
                    ChatTemplate(tokenizer)
                } catch (e: ChatTemplateException) {
                    check.require("data", false) { e.message!! }
                    return null
                }
            val sizes = (0 until SAMPLE).map { template.render(mixture.train(it.toLong())).size }
            val longest = sizes.max()
            check.require("data", longest <= contextLength + 1) {
                "a training conversation renders to $longest tokens, more than the context length $contextLength + 1: raise the model's contextLength"
            }
            if (longest > contextLength + 1) return null
            val mean = sizes.average()
            // Packed rows hold whole conversations, so a row fits fewer than length/mean of them:
            // leave a margin.
            val perRow =
                if (stage.packing)
                    maxOf(1, floor((contextLength + 1) / (mean * PACKING_MARGIN)).toInt())
                else 1
            return SftData(
                mixture,
                template,
                ChatPacker(contextLength, tokenizer.pad, stage.packing),
                stage.batchSize * perRow,
                mean,
                longest,
            )
        }

        private const val PACKING_MARGIN = 1.2
    }
}
