package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import looplab.dsl.Architecture
import looplab.dsl.Size
import looplab.models.cost.ModelCost
import looplab.models.eager.ParameterStore

class ZooCountSpec : FunSpec({
    context("the analytic count equals the parameters allocated, for every part and preset at test size") {
        withData(zoo) { spec ->
            val model = Models.build(spec, vocabSize = 23)
            ModelCost.of(spec, 23).physicalParams shouldBe ParameterStore(model.parameters, testBackend, seed = 1).count
        }
    }

    // Full-size stores would take gigabytes; the registry declares the same parameters without allocating them.
    context("the analytic count equals the declared parameters of every full-size preset") {
        val presets = Architecture.entries.associate { it.name to tinyModel(it.name) { preset(it) } } +
            Size.entries.associate { it.name to tinyModel(it.name) { preset(it) } }
        withData(presets) { spec ->
            val model = Models.build(spec, vocabSize = 98)
            ModelCost.of(spec, 98).physicalParams shouldBe model.parameters.count
        }
    }

    test("osrt-v3 has exactly 104,537,600 parameters, and its loops multiply the effective count") {
        val spec = tinyModel("osrt-v3") { preset(Architecture.OsrtV3) }
        val cost = ModelCost.of(spec, vocabSize = 98)
        cost.physicalParams shouldBe 104_537_600L
        Models.build(spec, 98).parameters.count shouldBe 104_537_600L
        // Two blocks of 19,827,200 parameters, applied six times each.
        cost.effectiveParams shouldBe 104_537_600L + 5 * 2 * 19_827_200L
    }

    test("osrt-v4 lands on the seed's ~356M, with MoE FLOPs below those of running every expert") {
        val spec = tinyModel("osrt-v4") { preset(Architecture.OsrtV4) }
        val cost = ModelCost.of(spec, 98)
        (cost.physicalParams / 1_000_000) shouldBe 356L
        val dense = ModelCost.of(spec.copy(recursive = spec.recursive.copy(moe = spec.recursive.moe!!.copy(topK = 11, capacityFactor = null))), 98)
        dense.forwardFlopsPerToken shouldBeGreaterThan cost.forwardFlopsPerToken
    }
})
