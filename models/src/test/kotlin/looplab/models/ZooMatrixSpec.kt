package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import looplab.dsl.Architecture
import looplab.dsl.EmbeddingInit
import looplab.dsl.LearnedPositions
import looplab.dsl.ModelSpec
import looplab.dsl.NoPositions
import looplab.dsl.Size
import looplab.models.checks.ModelChecks
import looplab.models.eager.ParameterStore

/**
 * Every part of the zoo and every preset (at a tiny width), each alone or as its seed combines
 * them.
 */
val zoo: Map<String, ModelSpec> =
    mapOf(
        "baseline" to tinyModel { layers = 3 },
        "learned positions" to tinyModel { positions = LearnedPositions },
        "no positions (NoPE), looped" to
            tinyModel {
                positions = NoPositions
                recursive(blocks = 1, loops = 3) { inject() }
            },
        "sliding window 3, looped" to
            tinyModel {
                attentionWindow = 3
                recursive(blocks = 1, loops = 3) { inject() }
            },
        "GQA 4q/2kv" to tinyModel { kvHeads = 2 },
        "RoPE base 500k, NTK" to tinyModel { rope(base = 500_000.0, ntk = true) },
        "shared loop + injection" to tinyModel { recursive(blocks = 1, loops = 4) { inject() } },
        "prelude + coda" to
            tinyModel {
                prelude = 1
                coda = 1
                recursive(blocks = 1, loops = 3)
            },
        "U-Net skips" to tinyModel { recursive(blocks = 2, loops = 4) { unetSkips() } },
        "pass controls" to tinyModel { recursive(blocks = 2, loops = 3) { passControls() } },
        "adapters + inter-loop norm" to
            tinyModel {
                recursive(blocks = 2, loops = 3) {
                    adapters(rank = 4)
                    interLoopNorm()
                }
            },
        "exit gate" to tinyModel { recursive(blocks = 1, loops = 3) { exitGate() } },
        "random depth + loop loss" to
            tinyModel {
                recursive(blocks = 1, loops = 4) {
                    randomDepth(min = 2)
                    loopLoss(0.2)
                }
            },
        "deep random depth, truncated backprop + loop loss" to
            tinyModel {
                recursive(blocks = 1, loops = 3) {
                    inject()
                    randomDepth(min = 2, max = 6, backprop = 2)
                    loopLoss(0.2)
                }
            },
        "aux heads + early exit" to
            tinyModel {
                recursive(blocks = 1, loops = 5) { conv(kernel = 3, dilation = 2) }
                auxHeads(2, 4)
                earlyExit(4)
            },
        "early exit without a head" to
            tinyModel {
                recursive(blocks = 1, loops = 4)
                earlyExit(2)
            },
        "latent thoughts" to tinyModel { latent(thoughts = 3, refinements = 2) },
        "act" to
            tinyModel {
                recursive(blocks = 1, loops = 5) { interLoopNorm() }
                act(ponderWeight = 0.05)
            },
        "ssm" to
            tinyModel {
                recursive(blocks = 2, loops = 1) { ssm(state = 8, headSize = 16, chunk = 4) }
            },
        "ssm_mem" to
            tinyModel {
                memory(tokens = 3)
                recursive(blocks = 2, loops = 1) {
                    ssm(state = 8, headSize = 16, chunk = 4, attention = true)
                }
            },
        "moe beside dense, loop-aware" to
            tinyModel {
                recursive(blocks = 2, loops = 3) {
                    moe(experts = 5, topK = 2, group = 8, capacityFactor = 1.0)
                }
            },
        "moe instead of dense, dropless" to
            tinyModel {
                recursive(blocks = 2, loops = 1) {
                    moe(
                        experts = 4,
                        topK = 1,
                        shared = 0,
                        keepDense = false,
                        capacityFactor = null,
                        group = 4,
                    )
                }
            },
        "refined embeddings" to tinyModel { refineEmbeddings(cycles = 2, kernel = 3) },
        "low-rank keys + value embeddings" to
            tinyModel {
                kvHeads = 2
                valueEmbeddings()
                recursive(blocks = 2, loops = 2) { lowRankKeys(rank = 4) }
            },
        "spectral init, untied head" to
            tinyModel {
                embeddingInit = EmbeddingInit.Spectral
                tiedEmbeddings = false
            },
        "TRM cycles with a dilated FFN conv" to
            tinyModel {
                recursive(blocks = 1, loops = 2) {
                    conv(kernel = 3, dilation = 2)
                    trm(cycles = 3)
                }
            },
        "TRM cycles, prelude, pass controls" to
            tinyModel {
                prelude = 1
                recursive(blocks = 1, loops = 2) {
                    trm(cycles = 2)
                    passControls()
                }
            },
        "TD + GRU carries" to
            tinyModel {
                recursive(blocks = 1, loops = 4) {
                    tdCarry(rank = 4)
                    gruCarry(rank = 4)
                }
            },
        "confidence conditioning + GRU carry" to
            tinyModel {
                recursive(blocks = 2, loops = 3) {
                    exitGate()
                    confidence()
                    gruCarry(rank = 3)
                }
            },
        "carries with early exit" to
            tinyModel {
                recursive(blocks = 1, loops = 4) {
                    tdCarry(rank = 4)
                    gruCarry(rank = 4)
                }
                auxHeads(3)
                earlyExit(3)
            },
        "carries under ACT" to
            tinyModel {
                recursive(blocks = 1, loops = 3) {
                    tdCarry(rank = 4)
                    gruCarry(rank = 4)
                }
                act()
            },
    ) +
        Architecture.entries.associate { arch ->
            "preset ${arch.name}" to
                tinyModel(arch.name) {
                    preset(arch)
                    cpuSized()
                }
        } +
        Size.entries.associate { size ->
            "preset ${size.name}" to
                tinyModel(size.name) {
                    preset(size)
                    cpuSized()
                }
        }

/** Shrinks a preset's width and vocabulary to test size, keeping its architecture. */
fun looplab.dsl.ModelBuilder.cpuSized() {
    width = 32
    heads = 4
    kvHeads = kvHeads?.let { 2 }
    vocabSize = null
    contextLength = 16
    ffnHidden = 48
}

class ZooMatrixSpec :
    FunSpec({
        context("every part and preset is a valid spec") {
            withData(zoo) { spec -> modelErrors(spec).shouldBeEmpty() }
        }

        // Zero-initialised parameters (adapters' B, the carries' output projections, gate weights)
        // get
        // random values first: at zero they would switch the very paths under test off.
        context("every part and preset is causal") {
            withData(zoo) { spec ->
                val model = Models.build(spec, vocabSize = 23)
                val store =
                    ParameterStore(model.parameters, testBackend, seed = 5).apply { perturbZeros() }
                val result =
                    ModelChecks.causality(
                        model,
                        store,
                        looplab.models.eager.EagerExecutor(testBackend),
                        length = 12,
                    )
                withClue(result.detail) { result.passed shouldBe true }
            }
        }

        context("padding never moves the loss of any part or preset") {
            withData(zoo) { spec ->
                val model = Models.build(spec, vocabSize = 23)
                val store =
                    ParameterStore(model.parameters, testBackend, seed = 6).apply { perturbZeros() }
                val result =
                    ModelChecks.paddingInvariance(
                        model,
                        store,
                        looplab.models.eager.EagerExecutor(testBackend),
                        length = 9,
                        padding = 5,
                    )
                withClue(result.detail) { result.passed shouldBe true }
            }
        }
    })

private inline fun <T> withClue(clue: String, block: () -> T): T =
    io.kotest.assertions.withClue(clue, block)
