package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import looplab.dsl.Recursion
import looplab.models.cost.ModelCost
import looplab.models.eager.ParameterStore

class ParameterCountSpec :
    FunSpec({
        context("the analytic count equals the parameters actually allocated") {
            withData(
                nameFn = { (b, l, w) -> "$b blocks x $l loops, width $w" },
                Triple(1, 1, 16),
                Triple(3, 1, 32),
                Triple(1, 6, 32),
                Triple(2, 3, 64),
            ) { (blocks, loops, width) ->
                val spec = tinySpec(blocks, loops, width).copy(ffnHidden = null)
                val model = Models.build(spec, vocabSize = 37)
                val store = ParameterStore(model.parameters, testBackend, seed = 1)
                val cost = ModelCost.of(spec, 37)
                cost.physicalParams shouldBe store.count
                cost.physicalParams shouldBe model.parameters.count
            }
        }

        test("looping multiplies effective, not physical, parameters") {
            val once = ModelCost.of(tinySpec(blocks = 2, loops = 1), 50)
            val thrice = ModelCost.of(tinySpec(blocks = 2, loops = 3), 50)
            thrice.physicalParams shouldBe once.physicalParams
            val perBlockStack = once.effectiveParams - 50 * 32 - 32
            thrice.effectiveParams shouldBe once.effectiveParams + 2 * perBlockStack
            thrice.forwardFlopsPerToken shouldBe
                (once.forwardFlopsPerToken - 2 * 50 * 32) * 3 + 2 * 50 * 32
        }

        test("the SwiGLU default is 8/3 of the width rounded up to 64, as in osrt-v3") {
            tinySpec(width = 1280, heads = 20).copy(ffnHidden = null).resolvedFfnHidden shouldBe
                3456
            tinySpec(width = 1280, heads = 20)
                .copy(recursive = Recursion(2, 6))
                .effectiveDepth shouldBe 12
        }
    })
