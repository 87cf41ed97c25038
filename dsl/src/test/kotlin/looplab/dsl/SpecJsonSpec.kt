package looplab.dsl

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain

class SpecJsonSpec :
    FunSpec({
        val spec =
            experiment("round-trip") {
                seed = 7
                device = Gpu(1)
                data {
                    algorithmic {
                        task(Task.Parity, train = 1..8, ood = listOf(16, 32))
                        task(Task.Addition, weight = 2.0)
                        loss = LossScope.All
                    }
                }
                model("shared_loop") {
                    preset(Size.M125)
                    recursive(blocks = 2, loops = 6)
                    ffnHidden = 2048
                }
                pipeline {
                    val base = pretrain {
                        budget = 20.M.tokens
                        lr = cosine(3e-4, warmup = 200.steps, floor = 0.05)
                        clipNorm = null
                        evalEvery = 500.steps
                    }
                    eval(base) { algorithmic(samples = 10, maxNewTokens = 5) }
                }
            }

        test("a spec survives a JSON round trip unchanged") {
            SpecJson.decode(SpecJson.encode(spec)) shouldBe spec
        }

        test("sealed choices are written with a readable type tag") {
            val text = SpecJson.encode(spec)
            text shouldContain "\"type\": \"tokens\""
            text shouldContain "\"type\": \"cosine\""
            text shouldContain "\"task\": \"parity\""
        }

        test("an unknown key is an error that names the key") {
            val text = SpecJson.encode(spec).replace("\"seed\": 7", "\"seed\": 7, \"sede\": 8")
            val e = shouldThrow<SpecJsonException> { SpecJson.decode(text, "exp.json") }
            e.message shouldContain "exp.json"
            e.message shouldContain "sede"
        }

        test("malformed JSON is reported, not thrown as a raw parser error") {
            val e =
                shouldThrow<SpecJsonException> { SpecJson.decode("{ \"name\": ", "broken.json") }
            e.message shouldContain "broken.json is not a valid experiment"
        }
    })
