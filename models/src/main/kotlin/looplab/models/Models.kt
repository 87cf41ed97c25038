package looplab.models

import looplab.dsl.ModelSpec
import looplab.models.decoder.RecursiveDecoder

/** Builds the model a spec describes. */
public object Models {
    /**
     * The model of [spec] for a tokenizer of [vocabSize] tokens; the embedding has the spec's
     * vocabulary override when it sets one (which must be at least the tokenizer's size).
     */
    public fun build(spec: ModelSpec, vocabSize: Int): LanguageModel {
        val rows = spec.vocabSize ?: vocabSize
        require(rows >= vocabSize) {
            "model ${spec.name}: vocabSize $rows is smaller than the tokenizer's $vocabSize tokens"
        }
        return RecursiveDecoder(spec, rows)
    }
}
