package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/**
 * Where language text comes from. Every corpus is a list of documents; train and validation are
 * split by document.
 */
@Serializable public sealed interface CorpusSpec

/**
 * Jane Austen's six novels (public domain, ~4 MB), shipped with looplab; one document per chapter.
 */
@Serializable @SerialName("austen") public data object AustenCorpus : CorpusSpec

/**
 * US State of the Union addresses 1790–2021 (public domain, ~10.8 MB), shipped with looplab; one
 * document per speech.
 */
@Serializable @SerialName("sotu") public data object SotuCorpus : CorpusSpec

/**
 * A UTF-8 text file whose documents are separated by [separator] (TinyStories' format by default).
 */
@Serializable
@SerialName("text")
public data class TextFileCorpus(val path: String, val separator: String = "<|endoftext|>") :
    CorpusSpec

/** JSON Lines, one document per line in the string field [field]. */
@Serializable
@SerialName("jsonl")
public data class JsonlCorpus(val path: String, val field: String = "text") : CorpusSpec

/** The corpora looplab ships, and loaders for your own. */
public object Corpus {
    public val Austen: CorpusSpec = AustenCorpus
    public val Sotu: CorpusSpec = SotuCorpus

    /** Plain text with a document separator, e.g. TinyStories' `TinyStories-train.txt`. */
    public fun text(path: String, separator: String = TextFileCorpus(path).separator): CorpusSpec =
        TextFileCorpus(path, separator)

    /** JSON Lines with the document in [field]. */
    public fun jsonl(path: String, field: String = JsonlCorpus(path).field): CorpusSpec =
        JsonlCorpus(path, field)
}

/**
 * Language-modelling data: packed windows of a corpus's training documents, every token carrying
 * loss. One document in [validationEvery] (the last of each run of that many) is held out.
 */
@Serializable
public data class LanguageDataSpec(
    val corpus: CorpusSpec = AustenCorpus,
    /**
     * Language tokens of the split curriculum; null: whatever the budget leaves after the
     * algorithmic tokens.
     */
    val tokens: Long? = null,
    /**
     * Tokens per training sequence; null: the shortest context length of the experiment's models.
     */
    val sequenceLength: Int? = null,
    /** Documents with `index % validationEvery == validationEvery - 1` are held out. */
    val validationEvery: Int = 20,
) {
    /**
     * Whether document [index] of the corpus is held out for validation (and kept from tokenizer
     * training).
     */
    public fun isHeldOut(index: Int): Boolean = index % validationEvery == validationEvery - 1
}
