package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import looplab.dsl.Architecture
import looplab.dsl.Size
import looplab.models.cost.ModelCost
import looplab.models.eager.ParameterStore

class ZooCountSpec :
    FunSpec({
        context(
            "the analytic count equals the parameters allocated, for every part and preset at test size"
        ) {
            withData(zoo) { spec ->
                val model = Models.build(spec, vocabSize = 23)
                ModelCost.of(spec, 23).physicalParams shouldBe
                    ParameterStore(model.parameters, testBackend, seed = 1).count
            }
        }

        // Full-size stores would take gigabytes; the registry declares the same parameters without
        // allocating them.
        context("the analytic count equals the declared parameters of every full-size preset") {
            val presets =
                Architecture.entries.associate { it.name to tinyModel(it.name) { preset(it) } } +
                    Size.entries.associate { it.name to tinyModel(it.name) { preset(it) } }
            withData(presets) { spec ->
                val model = Models.build(spec, vocabSize = 98)
                ModelCost.of(spec, 98).physicalParams shouldBe model.parameters.count
            }
        }

        test(
            "osrt-v3 has exactly 104,537,600 parameters, and its loops multiply the effective count"
        ) {
            val spec = tinyModel("osrt-v3") { preset(Architecture.OsrtV3) }
            val cost = ModelCost.of(spec, vocabSize = 98)
            cost.physicalParams shouldBe 104_537_600L
            Models.build(spec, 98).parameters.count shouldBe 104_537_600L
            // Two blocks of 19,827,200 parameters, applied six times each; the inter-loop norm
            // between consecutive loops, five times.
            cost.effectiveParams shouldBe 104_537_600L + 5 * 2 * 19_827_200L + 4 * 1280L
            cost.activeParams shouldBe 104_537_600L
        }

        test(
            "osrt-v4 lands on the seed's ~356M, with MoE FLOPs below those of running every expert"
        ) {
            val spec = tinyModel("osrt-v4") { preset(Architecture.OsrtV4) }
            val cost = ModelCost.of(spec, 98)
            (cost.physicalParams / 1_000_000) shouldBe 356L
            val dense =
                ModelCost.of(
                    spec.copy(
                        recursive =
                            spec.recursive.copy(
                                moe = spec.recursive.moe!!.copy(topK = 11, capacityFactor = null)
                            )
                    ),
                    98,
                )
            dense.forwardFlopsPerToken shouldBeGreaterThan cost.forwardFlopsPerToken
            // Active per token: all but the 9 of 11 routed experts (3·1536·1024 each) a token
            // skips, in each of the 3 blocks.
            cost.activeParams shouldBe cost.physicalParams - 3 * 9 * 3 * 1536 * 1024L
            (cost.activeParams / 1_000_000) shouldBe 229L
            cost.activeEffectiveParams shouldBe cost.effectiveParams - 6 * 3 * 9 * 3 * 1536 * 1024L
        }

        test(
            "crt-v2's TRM cycles add no parameters but apply its FFN 8 times per loop; early exit at loop 6 leaves 6 loops active"
        ) {
            val spec = tinyModel("crt-v2") { preset(Architecture.CrtV2) }
            val plain = spec.copy(recursive = spec.recursive.copy(trm = null))
            val cost = ModelCost.of(spec, 98)
            cost.physicalParams shouldBe ModelCost.of(plain, 98).physicalParams
            val ffn = 3L * 512 * 1408 + 1408 * 3 + 512 // matrices, conv taps, norm
            cost.effectiveParams shouldBe ModelCost.of(plain, 98).effectiveParams + 8 * 7 * ffn
            cost.activeLoops shouldBe 6
            // Not active at inference: the auxiliary norms at loops 2 and 4 and the final norm (the
            // exit predicts through loop 6's head).
            cost.activeParams shouldBe cost.physicalParams - 3 * 512
            cost.activeEffectiveParams shouldBe
                cost.effectiveParams -
                    2 *
                        (cost.effectiveParams -
                            ModelCost.of(spec.copy(recursive = spec.recursive.copy(loops = 7)), 98)
                                .effectiveParams) -
                    3 * 512
        }

        test("golf-3x3 uses every parameter at inference; its carries act in passes 2 and 3") {
            val spec = tinyModel("golf") { preset(Architecture.Golf3x3) }
            val cost = ModelCost.of(spec, 98)
            cost.activeParams shouldBe cost.physicalParams
            cost.activeEffectiveParams shouldBe cost.effectiveParams
            val bare =
                spec.copy(
                    recursive =
                        spec.recursive.copy(tdCarry = null, gruCarry = null, confidence = false)
                )
            // TD 2·768·16; GRU 4·768·16 + 3·16² + 3·16; confidence 2·768 per pass after the first.
            cost.physicalParams - ModelCost.of(bare, 98).physicalParams shouldBe
                2L * 768 * 16 + 4L * 768 * 16 + 3 * 16 * 16 + 3 * 16 + 2 * 2 * 768
        }
    })
