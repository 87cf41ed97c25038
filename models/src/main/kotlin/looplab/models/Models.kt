package looplab.models

import looplab.dsl.ModelSpec
import looplab.models.decoder.RecursiveDecoder

/** Builds the model a spec describes. */
public object Models {
    public fun build(spec: ModelSpec, vocabSize: Int): LanguageModel = RecursiveDecoder(spec, vocabSize)
}
