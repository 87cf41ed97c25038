package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/**
 * One token per byte of UTF-8 (256 ids after PAD/BOS/EOS) plus the chat and reasoning tags: any
 * text, no vocabulary to train.
 */
@Serializable @SerialName("bytes") public data object ByteTokenizerSpec : TokenizerSpec

/** Which of OpenAI's byte-pair encodings (both ship inside jtokkit's jar). */
@Serializable
public enum class TiktokenEncoding {
    /** GPT-2's 50,257 tokens ("r50k_base"). */
    R50k,

    /** GPT-3.5/4's ~100k tokens ("cl100k_base"). */
    Cl100k,
}

/** An OpenAI BPE through jtokkit, with the chat tags appended as single tokens. */
@Serializable
@SerialName("tiktoken")
public data class TiktokenSpec(val encoding: TiktokenEncoding) : TokenizerSpec

/**
 * A Hugging Face `tokenizer.json`, run by DJL's HF tokenizers. [path] null means the GPT-NeoX-20B
 * tokenizer shipped with looplab (the seeds' tokenizer family). Chat tags missing from the file are
 * added to it as single tokens after its last id.
 */
@Serializable
@SerialName("huggingface")
public data class HuggingFaceTokenizerSpec(val path: String? = null) : TokenizerSpec

/**
 * A byte-level BPE of [vocabSize] tokens, trained by looplab on [corpus]'s training documents (at
 * most [trainBytes] bytes of them) when the experiment is planned; deterministic.
 */
@Serializable
@SerialName("bpe")
public data class TrainedBpeSpec(
    val vocabSize: Int,
    val corpus: CorpusSpec = AustenCorpus,
    val trainBytes: Long = 2_000_000,
) : TokenizerSpec

/** The tokenizers looplab knows, for `tokenizer = Tokenizers.bytes` and the like. */
public object Tokenizers {
    /** Printable ASCII, one token per character: algorithmic tasks only. */
    public val chars: TokenizerSpec = CharTokenizerSpec

    /** UTF-8 bytes: any text, tiny vocabulary. */
    public val bytes: TokenizerSpec = ByteTokenizerSpec

    /** GPT-2's BPE (r50k). */
    public val gpt2: TokenizerSpec = TiktokenSpec(TiktokenEncoding.R50k)

    /** cl100k. */
    public val cl100k: TokenizerSpec = TiktokenSpec(TiktokenEncoding.Cl100k)

    /** GPT-NeoX-20B, shipped with looplab. */
    public val neox: TokenizerSpec = HuggingFaceTokenizerSpec()

    /** Any Hugging Face `tokenizer.json` on disk. */
    public fun huggingFace(path: String): TokenizerSpec = HuggingFaceTokenizerSpec(path)

    /** A byte-level BPE trained on [corpus] (nano-osrt trains its own). */
    public fun bpe(
        vocabSize: Int,
        corpus: CorpusSpec = TrainedBpeSpec(vocabSize).corpus,
    ): TokenizerSpec = TrainedBpeSpec(vocabSize, corpus)
}
