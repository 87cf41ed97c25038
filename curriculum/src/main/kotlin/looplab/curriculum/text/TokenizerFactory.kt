package looplab.curriculum.text

import java.nio.file.Path
import java.util.concurrent.ConcurrentHashMap
import looplab.curriculum.language.CorpusLoader
import looplab.curriculum.text.bpe.BpeTrainer
import looplab.dsl.ByteTokenizerSpec
import looplab.dsl.CharTokenizerSpec
import looplab.dsl.HuggingFaceTokenizerSpec
import looplab.dsl.LanguageDataSpec
import looplab.dsl.TiktokenEncoding
import looplab.dsl.TiktokenSpec
import looplab.dsl.TokenizerSpec
import looplab.dsl.TrainedBpeSpec

/**
 * Builds the tokenizer a spec names; each is built once per process (loading NeoX or training a BPE
 * takes seconds).
 */
public object TokenizerFactory {
    private val cache = ConcurrentHashMap<Pair<TokenizerSpec, LanguageDataSpec>, Tokenizer>()

    /**
     * The tokenizer [spec] names. A BPE trained on a corpus learns only from the documents that
     * [language] (the experiment's language data, or the default split) does not hold out.
     */
    public fun load(spec: TokenizerSpec, language: LanguageDataSpec? = null): Tokenizer {
        val split =
            LanguageDataSpec(validationEvery = (language ?: LanguageDataSpec()).validationEvery)
        return cache[spec to split] ?: build(spec, split).also { cache[spec to split] = it }
    }

    private fun build(spec: TokenizerSpec, split: LanguageDataSpec): Tokenizer =
        when (spec) {
            CharTokenizerSpec -> CharTokenizer
            ByteTokenizerSpec -> ByteTokenizer
            is TiktokenSpec -> TiktokenTokenizer(spec.encoding)
            is HuggingFaceTokenizerSpec ->
                spec.path?.let { HuggingFaceTokenizer.load(Path.of(it)) }
                    ?: HuggingFaceTokenizer.neox()
            is TrainedBpeSpec -> {
                var budget = spec.trainBytes
                val docs =
                    CorpusLoader.load(spec.corpus)
                        .documents
                        .asSequence()
                        // Training documents only, up to the byte budget.
                        .filterIndexed { i, _ -> !split.isHeldOut(i) }
                        .takeWhile { budget > 0 }
                        .onEach { budget -= it.encodeToByteArray().size }
                BpeTrainer.train(docs, spec.vocabSize)
            }
        }

    /** A short description for plans. */
    public fun describe(spec: TokenizerSpec): String =
        when (spec) {
            CharTokenizerSpec -> "chars (printable ASCII + PAD/BOS/EOS)"
            ByteTokenizerSpec -> "bytes (UTF-8 bytes + PAD/BOS/EOS + chat tags)"
            is TiktokenSpec ->
                when (spec.encoding) {
                    TiktokenEncoding.R50k -> "gpt2 (r50k via jtokkit) + chat tags"
                    TiktokenEncoding.Cl100k -> "cl100k (via jtokkit) + chat tags"
                }
            is HuggingFaceTokenizerSpec ->
                (spec.path ?: "GPT-NeoX-20B (bundled)") + " via DJL HF tokenizers + chat tags"
            is TrainedBpeSpec ->
                "byte-level BPE of ${spec.vocabSize} tokens trained on ${spec.corpus::class.simpleName?.removeSuffix("Corpus")?.lowercase()} (+ chat tags)"
        }
}
