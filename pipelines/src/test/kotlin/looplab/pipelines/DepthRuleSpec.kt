package looplab.pipelines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import looplab.pipelines.eval.DepthRule
import looplab.pipelines.eval.LengthCurve

class DepthRuleSpec :
    FunSpec({
        // A model that answers a length-n input after n + 2 to n + 6 loops, whatever n is.
        fun solvedFrom(length: Int, ood: Boolean, depths: Int = 40) =
            LengthCurve(
                "Parity",
                length,
                ood,
                List(depths) { d -> if (d + 1 in length + 2..length + 6) 1.0 else 0.5 },
            )

        test(
            "the offset is the middle of the best plateau on training lengths; OOD is read there"
        ) {
            val rule =
                DepthRule.fit((1..8).map { solvedFrom(it, ood = false) } + solvedFrom(32, true))!!
            rule.offset shouldBe 4
            rule.iidAccuracy shouldBe 1.0
            rule.points.map { it.loops } shouldBe (1..8).map { it + 4 } + 36
            rule.points.last().accuracy shouldBe 1.0
        }

        test("an out-of-distribution length past the depths run has no accuracy, not a guess") {
            val rule =
                DepthRule.fit(
                    (1..8).map { solvedFrom(it, ood = false) } + solvedFrom(32, true, depths = 30)
                )!!
            rule.points.last().loops shouldBe 36
            rule.points.last().accuracy shouldBe null
        }

        test("the longest run of best offsets wins over an isolated one") {
            // Offsets 1-3 and 6 all reach 1.0 on the one training length; 2 is the run's middle.
            val curve =
                LengthCurve("Copy", 1, false, listOf(0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0))
            DepthRule.fit(listOf(curve))!!.offset shouldBe 2
        }

        test("no training lengths, or none that fits the depths run, gives no rule") {
            DepthRule.fit(listOf(solvedFrom(32, ood = true))) shouldBe null
            // Lengths 1 and 12 with 10 depths: no offset reads both.
            DepthRule.fit(
                listOf(solvedFrom(1, ood = false, depths = 10), solvedFrom(12, false, depths = 10))
            ) shouldBe null
        }
    })
