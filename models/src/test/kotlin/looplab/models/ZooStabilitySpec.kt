package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe

class ZooStabilitySpec :
    FunSpec({
        // The new ops must keep every scalar operand alive for backward (see
        // GradientStabilitySpec):
        // two models that between them use every part, trained a few steps with the GC run between
        // forward and backward, must give finite and identical gradient norms every time.
        val kitchenSinks =
            mapOf(
                "ssm + attention, memory, MoE, conv, refine, latent, ACT, adapters, GQA, low-rank keys, value embeddings" to
                    tinyModel {
                        kvHeads = 2
                        memory(tokens = 2)
                        refineEmbeddings(cycles = 2)
                        valueEmbeddings()
                        latent(thoughts = 2, refinements = 1)
                        recursive(blocks = 1, loops = 3) {
                            ssm(state = 4, headSize = 16, chunk = 4, attention = true)
                            moe(experts = 4, topK = 2, group = 8)
                            conv(kernel = 2, dilation = 2)
                            lowRankKeys(rank = 4)
                            adapters(rank = 2)
                            interLoopNorm()
                        }
                        act(ponderWeight = 0.1)
                    },
                "controls, skips, exit gates, aux heads, loop loss, random depth, learned positions, untied head" to
                    tinyModel {
                        positions = looplab.dsl.LearnedPositions
                        tiedEmbeddings = false
                        prelude = 1
                        coda = 1
                        recursive(blocks = 2, loops = 4) {
                            passControls()
                            unetSkips()
                            exitGate()
                            loopLoss(0.1)
                            randomDepth(min = 2)
                            inject()
                        }
                        auxHeads(1, 2)
                    },
            )
        withData(kitchenSinks) { spec ->
            val vocab = 19
            val model = Models.build(spec, vocab)
            fun train() =
                trainWithCollectionsBeforeBackward(
                    model,
                    vocab,
                    batch = 3,
                    steps = 4,
                    collections = 2,
                ) { step ->
                    Pass(true, step.toLong(), 1)
                }
            val first = train()
            first.all { it.isFinite() && it > 0f } shouldBe true
            train() shouldBe first
        }
    })
