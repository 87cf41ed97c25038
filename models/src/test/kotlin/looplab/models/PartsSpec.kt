package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeInRange
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import kotlin.math.abs
import kotlin.random.Random
import looplab.dsl.ModelSpec
import looplab.models.decoder.Forward
import looplab.models.decoder.RecursiveDecoder
import looplab.models.eager.ParameterStore
import looplab.models.eager.array
import looplab.models.tensor.Tensor

private const val VOCAB = 23

private fun decoder(spec: ModelSpec) = Models.build(spec, VOCAB) as RecursiveDecoder

private fun tokens(length: Int, batch: Int = 2, seed: Int = 1) =
    Random(seed).let { r -> IntArray(batch * length) { r.nextInt(VOCAB) } }

/** Runs [model] once and reads back the logits, every probe and how many loops ran. */
private class Run(val logits: FloatArray, val probes: Map<String, FloatArray>, val loopsRun: Int)

private fun run(
    model: RecursiveDecoder,
    store: ParameterStore,
    ids: IntArray,
    length: Int,
    pass: Pass = Pass.Inference,
    read: Boolean = false,
): Run =
    testBackend.scoped(store.values) { ops, _ ->
        val probes = LinkedHashMap<String, Tensor>()
        val f =
            Forward(
                ops,
                store,
                pass,
                read = if (read) { t -> t.array.getFloat().toDouble() } else null,
                probes = probes,
            )
        val logits = model.run(f, ops.tokens(ids, ids.size / length, length))
        Run(
            logits.array.toFloatArray(),
            probes.mapValues { it.value.array.toFloatArray() },
            f.loopsRun,
        )
    }

private fun maxDiff(a: FloatArray, b: FloatArray) =
    a.indices.maxOf { abs(a[it] - b[it]).toDouble() }

class PartsSpec :
    FunSpec({
        test("adapters at initialisation leave every loop computing the unadapted block") {
            val plain = decoder(tinyModel { recursive(blocks = 2, loops = 3) })
            val adapted =
                decoder(tinyModel { recursive(blocks = 2, loops = 3) { adapters(rank = 4) } })
            val adaptedStore = ParameterStore(adapted.parameters, testBackend, seed = 3)
            val plainStore = ParameterStore(plain.parameters, testBackend, seed = 99)
            val weights = adaptedStore.snapshot()
            plainStore.load(
                weights.filterKeys { name -> plain.parameters.all.any { it.name == name } }
            )
            val ids = tokens(10)
            val a = run(adapted, adaptedStore, ids, 10)
            val p = run(plain, plainStore, ids, 10)
            for (loop in 0 until 3) maxDiff(
                a.probes.getValue("loop.$loop"),
                p.probes.getValue("loop.$loop"),
            ) shouldBe 0.0
            maxDiff(a.logits, p.logits) shouldBe 0.0
            // The A matrices are random, not zero: once B moves, the loops differ (so the check
            // above can fail).
            adaptedStore.load(weights + ("adapters.loop1.block0.b" to FloatArray(4 * 32) { 0.1f }))
            val moved = run(adapted, adaptedStore, ids, 10)
            maxDiff(moved.probes.getValue("loop.0"), p.probes.getValue("loop.0")) shouldBe 0.0
            (maxDiff(moved.probes.getValue("loop.1"), p.probes.getValue("loop.1")) > 1e-4) shouldBe
                true
        }

        context("adaptive computation") {
            val model =
                decoder(
                    tinyModel {
                        recursive(blocks = 1, loops = 5) { interLoopNorm() }
                        act()
                    }
                )
            val store = ParameterStore(model.parameters, testBackend, seed = 4)
            val base = store.snapshot()
            fun halting(bias: Float, spread: Float) =
                store.load(
                    base +
                        mapOf(
                            "halt.b" to floatArrayOf(bias),
                            "halt.w" to
                                Random(8).let { r ->
                                    FloatArray(32) { (r.nextFloat() * 2 - 1) * spread }
                                },
                        )
                )

            test("the loop weights of every position sum to one, and differ between positions") {
                halting(bias = 0.5f, spread = 2f)
                val ids = tokens(9)
                val result = run(model, store, ids, 9)
                val weights = (0 until 5).map { result.probes.getValue("act.weight.$it") }
                val positions = weights[0].size
                for (i in 0 until positions) weights.sumOf { it[i].toDouble() } shouldBe
                    (1.0 plusOrMinus 1e-5)
                // Halting is per position: not every position gives its first loop the same weight.
                (weights[0].max() - weights[0].min() > 1e-3) shouldBe true
            }

            test(
                "inference stops when every position has halted, with the logits of running every loop"
            ) {
                halting(bias = 8f, spread = 0f) // p ≈ 1: every position halts after its first loop
                val ids = tokens(9)
                val static = run(model, store, ids, 9)
                val adaptive = run(model, store, ids, 9, read = true)
                static.loopsRun shouldBe 5
                adaptive.loopsRun shouldBe 1
                maxDiff(static.logits, adaptive.logits) shouldBeLessThan 1e-6
                halting(bias = -1f, spread = 0f) // p ≈ 0.27: 0.99 needs 15 loops, so all 5 run
                run(model, store, ids, 9, read = true).loopsRun shouldBe 5
            }

            test("the ponder cost and the mean number of loops are reported") {
                halting(bias = -1f, spread = 0f)
                val metrics = loss(model, store)
                metrics.keys shouldContainAll listOf("act.ponder", "act.loops", "lm_loss")
                metrics.getValue("act.loops") shouldBe (5.0 plusOrMinus 1e-4)
            }
        }

        test("each auxiliary head's loss is in the metrics, and the loss is the weighted sum") {
            val model =
                decoder(
                    tinyModel {
                        recursive(blocks = 1, loops = 4) { loopLoss(weight = 0.2) }
                        auxHeads(1, 3, weight = 0.5)
                    }
                )
            val store = ParameterStore(model.parameters, testBackend, seed = 5)
            val m = loss(model, store)
            m.keys shouldContainAll
                listOf("aux.loop1", "aux.loop3", "loop_loss", "lm_loss", "loop_rms.1", "loop_rms.4")
            m.getValue("loss") shouldBe
                ((m.getValue("lm_loss") +
                    0.5 * (m.getValue("aux.loop1") + m.getValue("aux.loop3")) +
                    0.2 * m.getValue("loop_loss")) plusOrMinus 1e-4)
        }

        test("early exit stops inference at its loop; training runs every loop") {
            val model =
                decoder(
                    tinyModel {
                        recursive(blocks = 1, loops = 4)
                        auxHeads(2)
                        earlyExit(2)
                    }
                )
            val store = ParameterStore(model.parameters, testBackend, seed = 6)
            val ids = tokens(8)
            run(model, store, ids, 8).loopsRun shouldBe 2
            run(model, store, ids, 8, pass = Pass(training = true, step = 3)).loopsRun shouldBe 4
        }

        test(
            "random depth draws the loops per step on the host, reproducibly; inference runs them all"
        ) {
            val model =
                decoder(tinyModel { recursive(blocks = 1, loops = 5) { randomDepth(min = 2) } })
            val store = ParameterStore(model.parameters, testBackend, seed = 7)
            val ids = tokens(6)
            val drawn =
                (0L until 12L).map {
                    run(model, store, ids, 6, pass = Pass(training = true, step = it, seed = 1))
                        .loopsRun
                }
            drawn.forEach { it shouldBeInRange 2..5 }
            drawn.toSet().size shouldNotBe 1
            run(model, store, ids, 6, pass = Pass(training = true, step = 4, seed = 1))
                .loopsRun shouldBe drawn[4]
            run(model, store, ids, 6).loopsRun shouldBe 5
        }

        test("random depth with a max past the loops draws half its steps above them") {
            val model =
                decoder(
                    tinyModel { recursive(blocks = 1, loops = 3) { randomDepth(min = 2, max = 7) } }
                )
            val store = ParameterStore(model.parameters, testBackend, seed = 7)
            val drawn =
                (0L until 24L).map {
                    run(model, store, tokens(6), 6, pass = Pass(training = true, step = it))
                        .loopsRun
                }
            drawn.forEach { it shouldBeInRange 2..7 }
            // Half the steps within the model's loops, half above them (binomial: 6-18 of 24).
            drawn.count { it > 3 } shouldBeInRange 6..18
            drawn.filter { it > 3 }.toSet().size shouldBe 4
            run(model, store, tokens(6), 6).loopsRun shouldBe 3
        }

        test(
            "truncated backpropagation: no gradient reaches the embedding through loops before the last k"
        ) {
            // Untied, without injection: the embedding's only gradient path is the stream through
            // every loop, so cutting the stream before the last loops leaves it no gradient at all.
            fun embeddingGradient(backprop: Int?): Double {
                val model =
                    decoder(
                        tinyModel {
                            tiedEmbeddings = false
                            recursive(blocks = 1, loops = 3) {
                                randomDepth(min = 4, max = 5, backprop = backprop)
                            }
                        }
                    )
                return ParameterStore(model.parameters, testBackend, seed = 9).use { store ->
                    val grads = sharedGradients(model, store, TestBatch.random(VOCAB, 2, 8))
                    grads.getValue("head").sumOf { abs(it.toDouble()) } shouldNotBe 0.0
                    grads.getValue("blocks.0.attn.wq").sumOf { abs(it.toDouble()) } shouldNotBe 0.0
                    grads.getValue("embed").sumOf { abs(it.toDouble()) }
                }
            }
            embeddingGradient(backprop = 2) shouldBe 0.0
            embeddingGradient(backprop = null) shouldNotBe 0.0
            // At least as many tracked loops as drawn: nothing is cut.
            embeddingGradient(backprop = 5) shouldBe embeddingGradient(backprop = null)
        }

        test(
            "NTK scaling is a fixed property of the model: the scaled base at every length, so logits at t never depend on the length"
        ) {
            val plainSpec = tinyModel {
                contextLength = 8
                initStd = 0.3
            } // large enough weights for attention to depend on positions
            val ntkRope = looplab.dsl.Rope(ntk = true, ntkFactor = 4.0)
            val ntk = decoder(plainSpec.copy(positions = ntkRope))
            val store = ParameterStore(ntk.parameters, testBackend, seed = 8)
            // The same as plain RoPE with the scaled base, within the context and beyond it.
            val scaledBase = ntkRope.effectiveBase(plainSpec.headSize)
            (scaledBase > 10_000.0 * 4) shouldBe true
            val scaled = decoder(plainSpec.copy(positions = looplab.dsl.Rope(base = scaledBase)))
            // Parameters belong to the model that declared them: each model gets a store with the
            // same values.
            fun sameWeights(model: RecursiveDecoder) =
                ParameterStore(model.parameters, testBackend, seed = 0).also {
                    it.load(store.snapshot())
                }
            val scaledStore = sameWeights(scaled)
            for (length in listOf(8, 20)) maxDiff(
                run(scaled, scaledStore, tokens(length), length).logits,
                run(ntk, store, tokens(length), length).logits,
            ) shouldBe 0.0
            // A position's logits are those of the prefix alone, however far past the context the
            // sequence runs.
            val long = run(ntk, store, tokens(20, batch = 1), 20).logits
            val prefix = run(ntk, store, tokens(20, batch = 1).copyOf(6), 6).logits
            val width = prefix.size / 6
            maxDiff(long.copyOf(6 * width), prefix) shouldBeLessThan
                1e-4 * prefix.maxOf { kotlin.math.abs(it) }
            // And it differs from the unscaled model (the factor does something).
            val plain = decoder(plainSpec)
            (maxDiff(
                run(plain, sameWeights(plain), tokens(8), 8).logits,
                run(ntk, store, tokens(8), 8).logits,
            ) > 1e-4) shouldBe true
        }

        test("the MoE reports its z-loss, per-expert load (summing to one) and dropped share") {
            val model =
                decoder(
                    tinyModel {
                        recursive(blocks = 1, loops = 2) { moe(experts = 4, topK = 2, group = 8) }
                    }
                )
            val store = ParameterStore(model.parameters, testBackend, seed = 9)
            val m = loss(model, store)
            m.keys shouldContainAll listOf("moe.zloss", "moe.dropped", "moe.load.e0", "moe.load.e2")
            (0 until 3).sumOf { m.getValue("moe.load.e$it") } shouldBe (1.0 plusOrMinus 1e-4)
        }
    })

/** The loss (as "loss") and every metric of one masked batch. */
private fun loss(model: LanguageModel, store: ParameterStore): Map<String, Double> {
    val batch = TestBatch.random(VOCAB, batch = 2, length = 8)
    val mask = FloatArray(batch.mask.size) { if (it % 8 < 6) 1f else 0f }
    return testBackend.scoped(store.values) { ops, _ ->
        val out =
            model.loss(
                ops,
                store,
                ops.tokens(batch.inputs, 2, 8),
                ops.tokens(batch.targets, 2, 8),
                ops.floats(mask, listOf(2, 8)),
            )
        out.metrics.mapValues { it.value.array.getFloat().toDouble() } +
            ("loss" to out.loss.array.getFloat().toDouble())
    }
}
