package looplab.curriculum

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import looplab.curriculum.chat.AssistantTurn
import looplab.curriculum.chat.ChatPacker
import looplab.curriculum.chat.ChatTemplate
import looplab.curriculum.chat.ChatTemplateException
import looplab.curriculum.chat.Conversation
import looplab.curriculum.chat.UserTurn
import looplab.curriculum.text.ByteTokenizer
import looplab.curriculum.text.CharTokenizer
import looplab.curriculum.text.ChatTags

class ChatTemplateSpec :
    FunSpec({
        val tok = ByteTokenizer
        val template = ChatTemplate(tok)
        fun tag(t: String) = tok.specialId(t)!!
        fun bytes(s: String) = tok.encode(s).toList()

        val qa = Conversation.qa("What is 2+2?", "4", think = "2+2=4", system = "Be brief.")

        test(
            "the mask matches the template token by token: only the assistant's part after its tag, EOS included"
        ) {
            val r = template.render(qa)
            // (token, trained) written out by hand from the template.
            val expected =
                listOf(tok.bos to false, tag(ChatTags.SYSTEM) to false) +
                    bytes("Be brief.").map { it to false } +
                    listOf(tag(ChatTags.USER) to false) +
                    bytes("What is 2+2?").map { it to false } +
                    listOf(tag(ChatTags.ASSISTANT) to false, tag(ChatTags.THINK) to true) +
                    bytes("2+2=4").map { it to true } +
                    listOf(tag(ChatTags.END_THINK) to true, tag(ChatTags.ANSWER) to true) +
                    bytes("4").map { it to true } +
                    listOf(tag(ChatTags.END_ANSWER) to true, tok.eos to true)
            r.ids.toList().zip(r.trained.toList()) shouldBe expected
            tok.decode(r.ids.filterIndexed { i, _ -> r.trained[i] }.toIntArray()) shouldBe
                "${ChatTags.THINK}2+2=4${ChatTags.END_THINK}${ChatTags.ANSWER}4${ChatTags.END_ANSWER}"
        }

        test(
            "in a multi-turn conversation every user turn is given and every assistant turn trained, each with its EOS"
        ) {
            val c =
                Conversation(
                    null,
                    listOf(
                        UserTurn("hi"),
                        AssistantTurn("hello"),
                        UserTurn("bye"),
                        AssistantTurn(answer = "ok"),
                    ),
                )
            val r = template.render(c)
            val expected =
                listOf(tok.bos to false, tag(ChatTags.USER) to false) +
                    bytes("hi").map { it to false } +
                    listOf(tag(ChatTags.ASSISTANT) to false) +
                    bytes("hello").map { it to true } +
                    listOf(tok.eos to true) +
                    listOf(tag(ChatTags.USER) to false) +
                    bytes("bye").map { it to false } +
                    listOf(tag(ChatTags.ASSISTANT) to false, tag(ChatTags.ANSWER) to true) +
                    bytes("ok").map { it to true } +
                    listOf(tag(ChatTags.END_ANSWER) to true, tok.eos to true)
            r.ids.toList().zip(r.trained.toList()) shouldBe expected
            // The prompt for the last turn ends with its <|assistant|> tag.
            template.prompt(c).toList() shouldBe r.ids.toList().subList(0, r.size - 5)
        }

        test(
            "packed rows: each target is masked exactly as the template flags it, within its own conversation"
        ) {
            val chats =
                listOf(
                        qa,
                        Conversation.qa("1+1?", "2"),
                        Conversation.qa("Name a colour.", "red", system = "Short answers."),
                    )
                    .map(template::render)
            val length = 64
            val packer = ChatPacker(length, tok.pad, packing = true)
            val rows = packer.rows(chats)
            val batch = packer.batch(rows)
            val tb = batch.tokens
            rows.forEachIndexed { r, row ->
                // Rebuild the row's token sequence and expected target mask from the rendered chats
                // alone.
                val ids = row.flatMap { it.ids.toList() }
                val flags = row.flatMap { it.trained.toList() }
                val seg = row.flatMapIndexed { s, chat -> List(chat.size) { s } }
                for (t in 0 until length) {
                    val i = r * length + t
                    tb.inputs[i] shouldBe (ids.getOrNull(t) ?: tok.pad)
                    tb.targets[i] shouldBe (ids.getOrNull(t + 1) ?: tok.pad)
                    batch.segments[i] shouldBe (seg.getOrNull(t) ?: row.size)
                    tb.mask[i] shouldBe (if (flags.getOrElse(t + 1) { false }) 1f else 0f)
                }
            }
            rows.size shouldBe
                2 // 45 + 17 + 33 tokens: best fit puts the second beside the first, the third alone
            // Every conversation's EOS is a target with loss; the next conversation's BOS is not.
            val eosTargets =
                (0 until rows.size * length).count {
                    tb.targets[it] == tok.eos && tb.mask[it] == 1f
                }
            eosTargets shouldBe 3
            (0 until rows.size * length).count {
                tb.targets[it] == tok.bos && tb.mask[it] == 1f
            } shouldBe 0
            tb.mask.sum() shouldBe chats.sumOf { c -> c.trained.count { it } }.toFloat()
        }

        test("without packing each conversation has its own row, padded and masked after its EOS") {
            val chats = listOf(qa, Conversation.qa("1+1?", "2")).map(template::render)
            val packer = ChatPacker(48, tok.pad, packing = false)
            val batch = packer.batch(packer.rows(chats))
            batch.tokens.batch shouldBe 2
            val second = chats[1]
            for (t in 0 until 48) {
                batch.tokens.mask[48 + t] shouldBe
                    (if (second.trained.getOrElse(t + 1) { false }) 1f else 0f)
            }
            batch.tokens.tokens shouldBe chats[0].size + chats[1].size
        }

        test(
            "a conversation longer than a row and a tokenizer without chat tags are clear errors"
        ) {
            shouldThrow<ChatTemplateException> {
                    ChatPacker(8, 0, packing = true).rows(listOf(template.render(qa)))
                }
                .message shouldContain "does not fit a row of 9 tokens"
            shouldThrow<ChatTemplateException> { ChatTemplate(CharTokenizer) }.message shouldContain
                "no single token for the chat tag <|system|>"
        }
    })
