package looplab.curriculum

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer as Djl
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import looplab.curriculum.language.CorpusLoader
import looplab.curriculum.text.ByteTokenizer
import looplab.curriculum.text.ChatTags
import looplab.curriculum.text.HuggingFaceTokenizer
import looplab.curriculum.text.TiktokenTokenizer
import looplab.curriculum.text.TokenizerFactory
import looplab.curriculum.text.TokenizerLoadException
import looplab.curriculum.text.bpe.BpeTrainer
import looplab.curriculum.text.bpe.TokenizerJson
import looplab.dsl.Corpus
import looplab.dsl.LanguageDataSpec
import looplab.dsl.TextFileCorpus
import looplab.dsl.TiktokenEncoding
import looplab.dsl.TrainedBpeSpec

class TokenizersSpec :
    FunSpec({
        val austen = CorpusLoader.load(Corpus.Austen).documents
        val sotu = CorpusLoader.load(Corpus.Sotu).documents
        val chat =
            "${ChatTags.SYSTEM}Be brief.${ChatTags.USER}What is 2+2?${ChatTags.ASSISTANT}${ChatTags.THINK}Add them.${ChatTags.END_THINK}${ChatTags.ANSWER}4${ChatTags.END_ANSWER}"

        test("bytes: any text round-trips, and chat tags are single tokens") {
            val text = austen[3].take(2000) + " — naïve £20,000 ✓ 🙂"
            ByteTokenizer.decode(ByteTokenizer.encode(text)) shouldBe text
            val ids = ByteTokenizer.encode(chat)
            ChatTags.all.forEach { tag ->
                ids.toList() shouldContain ByteTokenizer.specialId(tag)!!
            }
            ByteTokenizer.decode(ids) shouldBe chat
            ByteTokenizer.encode(ChatTags.THINK).size shouldBe 1
        }

        test("jtokkit: GPT-2 and cl100k give OpenAI's ids for \"Hello world\"") {
            TiktokenTokenizer(TiktokenEncoding.R50k).encode("Hello world").toList() shouldBe
                listOf(15496, 995)
            TiktokenTokenizer(TiktokenEncoding.Cl100k).encode("Hello world").toList() shouldBe
                listOf(9906, 1917)
            val gpt2 = TiktokenTokenizer(TiktokenEncoding.R50k)
            gpt2.encode(ChatTags.ANSWER).toList() shouldBe listOf(50257 + 5)
            gpt2.decode(gpt2.encode(chat)) shouldBe chat
        }

        test(
            "the bundled GPT-NeoX-20B tokenizer encodes \"Hello world\" as [12092, 1533] through DJL, offline, with chat tags whole"
        ) {
            val neox = HuggingFaceTokenizer.neox()
            neox.encode("Hello world").toList() shouldBe listOf(12092, 1533)
            neox.vocabSize shouldBe 50277 + ChatTags.all.size
            neox.eos shouldBe 0
            for (tag in ChatTags.all) neox.encode(tag).toList() shouldBe
                listOf(neox.specialId(tag)!!)
            val text = sotu[5].take(3000)
            neox.decode(neox.encode(text)) shouldBe text
            // Long inputs are not truncated (DJL's default would cut them at 512 tokens).
            neox.encode(sotu[0]).size shouldBeGreaterThan 4_000
            neox.decode(neox.encode(sotu[0])) shouldBe sotu[0]
        }

        test(
            "a trained byte-level BPE round-trips real text exactly, and DJL's HF tokenizers encodes its tokenizer.json identically"
        ) {
            val bpe =
                BpeTrainer.train(
                    austen.filterIndexed { i, _ -> i % 20 != 19 }.asSequence().take(60),
                    vocabSize = 1_000,
                )
            bpe.vocabSize shouldBe 1_000
            val held =
                austen.filterIndexed { i, _ -> i % 20 == 19 }.take(3) +
                    sotu[100].take(20_000) +
                    listOf(chat, "Emoji 🙂, accents é, tabs\t\tand  spaces\n\n")
            for (text in held) bpe.decode(bpe.encode(text)) shouldBe text
            // Merges compress: fewer tokens than bytes on held-out prose.
            (held[0].length / bpe.encode(held[0]).size.toDouble() > 2.0) shouldBe true

            val file = Files.createTempDirectory("bpe").resolve("tokenizer.json")
            TokenizerJson.write(bpe, file)
            Djl.newInstance(file, HuggingFaceTokenizer.OPTIONS).use { djl ->
                for (text in held) djl.encode(text, false, false).ids.map { it.toInt() } shouldBe
                    bpe.encode(text).toList()
            }
            TokenizerJson.read(file).merges shouldBe bpe.merges
            val viaHf = HuggingFaceTokenizer.load(file)
            viaHf.encode(held[1]).toList() shouldBe bpe.encode(held[1]).toList()
            listOf(viaHf.pad, viaHf.bos, viaHf.eos) shouldBe listOf(0, 1, 2)
        }

        test("a malformed tokenizer.json is named with its problem") {
            val dir = Files.createTempDirectory("bad")
            val notJson = dir.resolve("a.json").also { Files.writeString(it, "{ \"model\": ") }
            shouldThrow<TokenizerLoadException> { HuggingFaceTokenizer.load(notJson) }
                .message shouldContain "a.json is not a valid tokenizer.json: not JSON"
            val noModel =
                dir.resolve("b.json").also { Files.writeString(it, "{ \"version\": \"1.0\" }") }
            shouldThrow<TokenizerLoadException> { HuggingFaceTokenizer.load(noModel) }
                .message shouldContain
                "b.json is not a valid tokenizer.json: it has no \"model\" object"
            val badModel =
                dir.resolve("c.json").also {
                    Files.writeString(
                        it,
                        "{ \"model\": { \"type\": \"BPE\", \"vocab\": { \"<|endoftext|>\": 0 }, \"merges\": [\"a b\"] } }",
                    )
                }
            shouldThrow<TokenizerLoadException> { HuggingFaceTokenizer.load(badModel) }
                .message shouldContain "c.json is not a valid tokenizer.json"
            shouldThrow<TokenizerLoadException> {
                    HuggingFaceTokenizer.load(dir.resolve("absent.json"))
                }
                .message shouldContain "absent.json: no such tokenizer file"
        }
    })

class BpeHoldoutSpec :
    FunSpec({
        // Documents the experiment holds out for validation must not teach the tokenizer: a word
        // that
        // only they contain is learned as a token when nothing is held out, and never otherwise.
        test(
            "a BPE trained for an experiment learns nothing from the documents its language data holds out"
        ) {
            val docs =
                (0 until 40).map { i ->
                    if (i % 4 == 3) "zyxquv zyxquv zyxquv" else "the cat sat on the mat $i"
                }
            val file =
                Files.createTempFile("holdout", ".txt").also {
                    Files.writeString(it, docs.joinToString("<|endoftext|>"))
                }
            val bpe = TrainedBpeSpec(vocabSize = 320, corpus = TextFileCorpus(file.toString()))
            fun pieces(language: LanguageDataSpec) =
                TokenizerFactory.load(bpe, language).encode(" zyxquv").size
            pieces(LanguageDataSpec(validationEvery = 1_000)) shouldBe 1
            pieces(LanguageDataSpec(validationEvery = 4)) shouldBeGreaterThan 1
        }
    })
