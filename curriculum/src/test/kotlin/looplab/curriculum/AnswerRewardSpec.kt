package looplab.curriculum

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import looplab.curriculum.chat.AnswerReward
import looplab.dsl.RewardSpec

class AnswerRewardSpec :
    FunSpec({
        val reward = AnswerReward(RewardSpec(correct = 1.0, format = 0.1, maxTokens = 50))
        val t = "<|think|>"
        val et = "<|/think|>"
        val a = "<|answer|>"
        val ea = "<|/answer|>"

        test(
            "the exact answer in the single answer block earns the full reward; a wrong one only the format term"
        ) {
            reward.score("$t 3+4=7 $et$a" + "7$ea", "7", tokens = 12).value shouldBe 1.1
            reward.score("${a}7$ea\n", "7", tokens = 4).value shouldBe 1.1
            reward.score("$t 3+4=7 $et${a}8$ea", "7", tokens = 12).value shouldBe 0.1
        }

        context("the reward-hacking corpus earns nothing") {
            withData(
                mapOf(
                    "answer outside the tags" to "The answer is 7.",
                    "answer after the block" to "${a}8$ea 7",
                    "two answer blocks" to "${a}7$ea${a}8$ea",
                    "two answer blocks, both right" to "${a}7$ea${a}7$ea",
                    "the right number in the reasoning only" to "$t 3+4=7 $et",
                    "the right number in the reasoning, answer tag unclosed" to "$t 3+4=7 $et${a}7",
                    "unclosed answer tag" to "${a}7",
                    "closing tag only" to "7$ea",
                    "tags reversed" to "${ea}7$a",
                    "extra text inside the tag" to "${a}The answer is 7$ea",
                    "padding inside the tag" to "$a 7 $ea",
                    "another tag inside the answer" to "$a$t" + "7$ea",
                    "unclosed think" to "$t 3+4=7 ${a}7$ea",
                    "think after the answer" to "${a}7$ea$t$et",
                )
            ) { completion ->
                val r = reward.score(completion, "7", tokens = 10)
                r.correct shouldBe false
                r.value shouldBe 0.0
            }
        }

        test("a completion past the length limit earns nothing, even when right") {
            val r = reward.score("${a}7$ea", "7", tokens = 51)
            r.tooLong shouldBe true
            r.value shouldBe 0.0
        }
    })
