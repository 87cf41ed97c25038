package looplab.curriculum

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import looplab.curriculum.language.CorpusException
import looplab.curriculum.language.CorpusLoader
import looplab.curriculum.language.LanguageBatches
import looplab.curriculum.language.LanguageData
import looplab.curriculum.text.ByteTokenizer
import looplab.dsl.Corpus
import looplab.dsl.LanguageDataSpec

class CorporaSpec :
    FunSpec({
        val dir = Files.createTempDirectory("corpora")

        test("plain text with TinyStories' separator gives one document per story") {
            val file =
                dir.resolve("stories.txt").also {
                    Files.writeString(
                        it,
                        "Once upon a time there was a cat.\n<|endoftext|>\nThe dog ran. It was happy.<|endoftext|>\n\n<|endoftext|>Last one, café.\n",
                    )
                }
            CorpusLoader.load(Corpus.text(file.toString())).documents shouldBe
                listOf(
                    "Once upon a time there was a cat.",
                    "The dog ran. It was happy.",
                    "Last one, café.",
                )
        }

        test("JSON Lines with a text field, blank lines skipped; a missing field names the line") {
            val file =
                dir.resolve("docs.jsonl").also {
                    Files.writeString(
                        it,
                        "{\"text\": \"first\", \"id\": 1}\n\n{\"text\": \"second\\nline\"}\n",
                    )
                }
            CorpusLoader.load(Corpus.jsonl(file.toString())).documents shouldBe
                listOf("first", "second\nline")
            val bad =
                dir.resolve("bad.jsonl").also {
                    Files.writeString(it, "{\"text\": \"ok\"}\n{\"body\": \"x\"}\n")
                }
            shouldThrow<CorpusException> { CorpusLoader.load(Corpus.jsonl(bad.toString())) }
                .message shouldBe "$bad:2: no string field \"text\" (fields: body)"
        }

        test(
            "empty, whitespace-only, missing and non-UTF-8 files are refused with a clear message"
        ) {
            val empty = dir.resolve("empty.txt").also { Files.writeString(it, "") }
            shouldThrow<CorpusException> { CorpusLoader.load(Corpus.text(empty.toString())) }
                .message shouldBe "$empty: the file is empty"
            val blank =
                dir.resolve("blank.txt").also { Files.writeString(it, "  \n<|endoftext|>\n ") }
            shouldThrow<CorpusException> { CorpusLoader.load(Corpus.text(blank.toString())) }
                .message shouldContain "no documents"
            val latin1 =
                dir.resolve("latin1.txt").also {
                    Files.write(
                        it,
                        "caf".toByteArray() + byteArrayOf(0xE9.toByte()) + " au lait".toByteArray(),
                    )
                }
            shouldThrow<CorpusException> { CorpusLoader.load(Corpus.text(latin1.toString())) }
                .message shouldBe "$latin1: not UTF-8 text (invalid byte sequence at byte 3)"
            shouldThrow<CorpusException> {
                    CorpusLoader.load(Corpus.text(dir.resolve("nope.txt").toString()))
                }
                .message shouldContain "nope.txt: no such file"
        }

        test(
            "Austen ships with looplab: split by chapter, one in 20 held out, the same every time, gzip baseline measured"
        ) {
            val docs = CorpusLoader.load(Corpus.Austen).documents
            docs.size shouldBeGreaterThan 260
            docs.sumOf { it.length } shouldBeGreaterThan 3_900_000
            val data = LanguageData.prepare(LanguageDataSpec(Corpus.Austen), ByteTokenizer)
            data.validationDocuments shouldBe docs.size / 20
            data.validation.size shouldBe
                docs
                    .filterIndexed { i, _ -> i % 20 == 19 }
                    .sumOf { it.encodeToByteArray().size + 1 }
            data.gzipBitsPerByte shouldBeGreaterThan 2.5
            LanguageData.prepare(LanguageDataSpec(Corpus.Austen), ByteTokenizer)
                .validation
                .toList() shouldBe data.validation.toList()
        }

        test(
            "language batches are packed windows, pure functions of the index, every target carrying loss"
        ) {
            val tokens = IntArray(10_000) { it }
            val batches = LanguageBatches(tokens, batchSize = 4, seed = 9)
            val b = batches.batch(17, length = 32)
            b.inputs.size shouldBe 4 * 32
            for (row in 0 until 4) for (t in 0 until 32) b.targets[row * 32 + t] shouldBe
                b.inputs[row * 32 + t] + 1
            b.mask.all { it == 1f } shouldBe true
            batches.batch(17, 32).inputs.toList() shouldBe b.inputs.toList()
            (batches.batch(18, 32).inputs.toList() == b.inputs.toList()) shouldBe false
            LanguageBatches.windows(tokens, 100, maxTokens = 1_000).sumOf { it.batch } shouldBe 10
        }
    })
