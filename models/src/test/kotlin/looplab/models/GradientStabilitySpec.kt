package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

class GradientStabilitySpec :
    FunSpec({
        // DJL frees the scalar operand of ops like `x.mul(2f)` at once while autograd still holds
        // it;
        // a garbage collection between forward and backward then turns gradients into NaN or
        // garbage.
        // Collecting garbage right there must change nothing.
        test("gradients are finite and identical when the GC runs between forward and backward") {
            val vocab = 19
            val model = Models.build(tinySpec(blocks = 1, loops = 3), vocab)
            fun train() =
                trainWithCollectionsBeforeBackward(
                    model,
                    vocab,
                    batch = 4,
                    steps = 6,
                    collections = 3,
                ) {
                    Pass.Inference
                }
            val first = train()
            first.all { it.isFinite() } shouldBe true
            train() shouldBe first
        }
    })
