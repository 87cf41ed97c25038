package looplab.pipelines.posttrain.grpo

import looplab.curriculum.chat.ChatMixture
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.text.Tokenizer
import looplab.dsl.AdamW
import looplab.dsl.Backend
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.train.Execution

/**
 * A short supervised pass on chat conversations (loss on the assistant's tokens only), so that a
 * tiny model from scratch knows the answer format before GRPO in the tests and in `looplab bench
 * grpo-learn`. Not the SFT stage: no packing, no schedule, no records.
 */
internal object SupervisedWarmup {
    fun run(
        model: LanguageModel,
        store: ParameterStore,
        executor: Executor,
        backend: EagerBackend,
        tokenizer: Tokenizer,
        data: ChatMixture,
        steps: Int,
        batchSize: Int,
        lr: Double,
    ) {
        val template = ChatTemplate(tokenizer)
        val optimizer = Execution.optimizer(Backend.Eager, AdamW(weightDecay = 0.0), store, backend)
        try {
            for (step in 0 until steps) {
                // Drawn from the far end of the training stream, away from the prompts GRPO starts
                // with.
                val chats =
                    (0 until batchSize).map {
                        template.render(data.train(WARMUP_OFFSET + step.toLong() * batchSize + it))
                    }
                val length = chats.maxOf { it.size } - 1
                val inputs = IntArray(batchSize * length) { tokenizer.pad }
                val targets = IntArray(batchSize * length) { tokenizer.pad }
                val mask = FloatArray(batchSize * length)
                chats.forEachIndexed { r, c ->
                    for (t in 0 until c.size - 1) {
                        inputs[r * length + t] = c.ids[t]
                        targets[r * length + t] = c.ids[t + 1]
                        if (c.trained[t + 1]) mask[r * length + t] = 1f
                    }
                }
                optimizer.zeroGradients()
                executor.run(store, train = true) { ops, params ->
                    listOf(
                        model
                            .loss(
                                ops,
                                params,
                                ops.tokens(inputs, batchSize, length),
                                ops.tokens(targets, batchSize, length),
                                ops.floats(mask, listOf(batchSize, length)),
                            )
                            .loss
                    )
                }
                optimizer.step(lr, 1.0)
            }
        } finally {
            (optimizer as? AutoCloseable)?.close()
        }
    }

    private const val WARMUP_OFFSET = 1L shl 40
}
