package looplab.dsl

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain

class ModelDslSpec :
    FunSpec({
        fun models(block: ExperimentBuilder.() -> Unit) =
            experiment("m") {
                data { algorithmic(Task.Parity) }
                block()
                pipeline { pretrain { budget = 10.steps } }
            }

        test("the design card's example is valid DSL and says what it means") {
            val spec = models {
                model("v4ish") { recursive(blocks = 3, loops = 6) { moe(experts = 12, topK = 2) } }
            }
            spec.validate().shouldBeEmpty()
            val r = spec.models.single().recursive
            r.blocks shouldBe 3
            r.loops shouldBe 6
            r.moe shouldBe Moe(experts = 12, topK = 2)
            r.moe!!.routed shouldBe 11
        }

        test("a contradictory model fails validation with every error and its path") {
            val spec = models {
                model("x") {
                    width = 100
                    heads = 3
                    recursive(blocks = 3, loops = 0) { moe(experts = 12, topK = 13) }
                    earlyExit(9)
                }
                model("y") {
                    width = 64
                    heads = 4
                    kvHeads = 3
                    recursive(blocks = 1, loops = 4) {
                        randomDepth(min = 2)
                        moe(experts = 4, topK = 4, shared = 1)
                    }
                    act()
                    auxHead(loop = 3)
                    auxHead(loop = 4)
                }
            }
            val errors = spec.validate().map { it.toString() }
            errors shouldContainAll
                listOf(
                    "model[x].heads: must divide width 100, was 3",
                    "model[x].recursive.loops: must be ≥ 1, was 0",
                    "model[x].recursive.moe.topK: must be ≤ experts (12), was 13",
                    "model[x].earlyExit.loop: must be ≤ recursive.loops (0), was 9",
                    "model[y].kvHeads: must divide heads 4 (each key/value head serves a group of query heads), was 3",
                    "model[y].recursive.moe.topK: must be ≤ the routed experts (3 = 4 experts - 1 shared), was 4",
                    "model[y].act: cannot combine with recursive.randomDepth: halting already decides the depth per position",
                    "model[y].auxHeads[0].loop: loop 3 is beyond the fewest loops (2) that randomDepth may draw; its head would train only sometimes",
                    "model[y].auxHeads[1].loop: is the last loop, which the final head already supervises",
                )
            shouldThrow<InvalidSpecException> { spec.requireValid() }.errors.size shouldBe
                errors.size
        }

        test("deep random depth and truncated backpropagation name what they cannot run with") {
            val spec = models {
                model("a") {
                    recursive(blocks = 1, loops = 3) {
                        adapters(rank = 4)
                        randomDepth(min = 2, max = 6, backprop = 0)
                    }
                }
                model("b") {
                    recursive(blocks = 1, loops = 4) {
                        gruCarry(rank = 4)
                        randomDepth(min = 5, max = 5, backprop = 2)
                    }
                }
                model("c") { recursive(blocks = 1, loops = 4) { randomDepth(2, 9, 3) } }
            }
            spec.validate().map { it.toString() } shouldBe
                listOf(
                    "model[a].recursive.randomDepth.max: 6 is more than the model's 3 loops, and adapters exist once per loop",
                    "model[a].recursive.randomDepth.backprop: must be ≥ 1, was 0",
                    "model[b].recursive.randomDepth.min: must be < max (5) for the depth to vary, was 5",
                    "model[b].recursive.randomDepth.backprop: truncated backpropagation cannot combine with gruCarry: they reach across the loops it cuts off",
                )
        }

        test("parts that need something the model lacks say what is missing") {
            val spec = models {
                model("s") {
                    valueEmbeddings()
                    recursive(blocks = 2, loops = 1) {
                        ssm(headSize = 48)
                        lowRankKeys(rank = 8)
                        interLoopNorm()
                        loopLoss()
                    }
                    act()
                    earlyExit(1)
                }
            }
            val errors = spec.validate().map { it.toString() }
            errors shouldContainAll
                listOf(
                    "model[s].embedding.valueEmbeddings: value embeddings are added to attention values, but the ssm mixer has no attention (use ssm(attention = true))",
                    "model[s].recursive.keyRank: low-rank keys need attention, but the ssm mixer has none (use ssm(attention = true))",
                    "model[s].recursive.mixer.headSize: must divide the inner width expand·width = 1024, was 48",
                    "model[s].recursive.interLoopNorm: a norm between loops needs loops ≥ 2, was 1",
                    "model[s].recursive.loopLoss: a loss at every loop but the last needs loops ≥ 2, was 1",
                    "model[s].act: adaptive halting needs recursive.loops ≥ 2 to choose from, was 1",
                    "model[s].act: cannot combine with earlyExit: halting already stops each position when it is done",
                )
        }

        test("TRM cycles, the carries and confidence conditioning are validated with their paths") {
            val spec = models {
                model("t") {
                    recursive(blocks = 1, loops = 2) {
                        trm(cycles = 0)
                        moe(experts = 4, topK = 1)
                    }
                }
                model("c") {
                    recursive(blocks = 1, loops = 1) {
                        tdCarry(rank = 0)
                        gruCarry(rank = 4, std = -1.0)
                        confidence()
                    }
                }
            }
            val errors = spec.validate().map { it.toString() }
            errors shouldContainAll
                listOf(
                    "model[t].recursive.trm.cycles: must be ≥ 1, was 0",
                    "model[t].recursive.trm: TRM cycles run the dense FFN as a recurrence; cycling a mixture of experts (and its routing) is not defined, drop moe or trm",
                    "model[c].recursive.tdCarry.rank: must be ≥ 1, was 0",
                    "model[c].recursive.tdCarry: a carry between passes needs loops ≥ 2, was 1",
                    "model[c].recursive.gruCarry.std: must be ≥ 0, was -1.0",
                    "model[c].recursive.gruCarry: a carry between passes needs loops ≥ 2, was 1",
                    "model[c].recursive.confidence: conditioning on the previous pass needs loops ≥ 2, was 1",
                    "model[c].recursive.confidence: confidence conditioning reads the previous pass's exit gate: add exitGate()",
                )
            models {
                    model("ok") {
                        recursive(blocks = 1, loops = 3) {
                            conv()
                            trm(cycles = 4)
                            exitGate()
                            confidence()
                            tdCarry()
                            gruCarry()
                        }
                    }
                }
                .validate()
                .shouldBeEmpty()
        }

        test("every part survives a JSON round trip") {
            val spec = models {
                model("everything") {
                    width = 64
                    heads = 4
                    kvHeads = 2
                    vocabSize = 512
                    prelude = 1
                    coda = 1
                    rope(base = 500_000.0, ntk = true)
                    embeddingInit = EmbeddingInit.Spectral
                    tiedEmbeddings = false
                    valueEmbeddings()
                    refineEmbeddings(cycles = 2, kernel = 4, dilation = 2)
                    latent(thoughts = 3)
                    memory(tokens = 4)
                    auxHeads(2, 3, weight = 0.25)
                    earlyExit(3)
                    recursive(blocks = 2, loops = 4) {
                        ssm(state = 8, attention = true)
                        moe(experts = 6, topK = 2, capacityFactor = null)
                        conv(kernel = 5)
                        lowRankKeys(16)
                        inject()
                        adapters(rank = 8)
                        passControls()
                        interLoopNorm()
                        unetSkips()
                        exitGate()
                        randomDepth(min = 3)
                        loopLoss(0.05)
                        telemetry = false
                    }
                }
                model("golf-carries") {
                    recursive(blocks = 1, loops = 3) {
                        conv(kernel = 3)
                        trm(cycles = 4)
                        exitGate()
                        tdCarry(rank = 8)
                        gruCarry(rank = 4, std = 0.01)
                        confidence()
                    }
                }
                model("act") {
                    positions = LearnedPositions
                    recursive(blocks = 1, loops = 3)
                    act(threshold = 0.9, ponderWeight = 0.02)
                }
                model("osrt") { preset(Architecture.OsrtV4) }
            }
            SpecJson.decode(SpecJson.encode(spec)) shouldBe spec
            val text = SpecJson.encode(spec)
            text shouldContain "\"type\": \"ssm\""
            text shouldContain "\"type\": \"learned\""
            text shouldContain "\"type\": \"rope\""
        }

        test(
            "an architecture preset replaces earlier settings; later ones shrink it without changing its parts"
        ) {
            val spec =
                models {
                        model("small") {
                            ffnHidden = 12
                            latent()
                            preset(Architecture.OsrtV3)
                            width = 128
                            heads = 4
                            vocabSize = null
                        }
                    }
                    .models
                    .single()
            spec.latent shouldBe null
            spec.ffnHidden shouldBe null
            spec.width shouldBe 128
            spec.recursive.adapters shouldBe Adapters(rank = 16)
            spec.recursive.interLoopNorm shouldBe true
            spec.recursive.blocks * spec.recursive.loops shouldBe 12
        }
    })
