package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.pow
import kotlin.math.sqrt
import looplab.dsl.AdamW
import looplab.models.eager.ParameterStore
import looplab.models.optim.AdamWOptimizer

class AdamWSpec :
    FunSpec({
        val vocab = 17
        val batch = TestBatch.random(vocab, batch = 2, length = 8)
        val config = AdamW(beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0.1)

        test("matches a host reference of AdamW, with clipping and decay only on matrices") {
            val model = Models.build(tinySpec(blocks = 1, loops = 2), vocab)
            val store = ParameterStore(model.parameters, testBackend, seed = 4)
            val optimizer = AdamWOptimizer(store, testBackend, config)
            val refs = model.parameters.all
            val p =
                store.snapshot().mapValues { (_, v) -> DoubleArray(v.size) { v[it].toDouble() } }
            val m = p.mapValues { DoubleArray(it.value.size) }
            val v = p.mapValues { DoubleArray(it.value.size) }
            val clip = 0.5
            for (step in 1..4) {
                store.zeroGradients()
                backward(model, store, batch)
                val grads = store.gradients()
                val norm = sqrt(grads.values.sumOf { g -> g.sumOf { it.toDouble() * it } })
                val lr = 1e-2 * step
                optimizer.step(lr, clipNorm = clip) shouldBe (norm plusOrMinus 1e-4 * norm)
                val scale = if (norm > clip) clip / (norm + 1e-6) else 1.0
                for (ref in refs) {
                    val g = grads.getValue(ref.name)
                    val pr = p.getValue(ref.name)
                    val mr = m.getValue(ref.name)
                    val vr = v.getValue(ref.name)
                    for (i in pr.indices) {
                        val gi = g[i] * scale
                        mr[i] = 0.9 * mr[i] + 0.1 * gi
                        vr[i] = 0.95 * vr[i] + 0.05 * gi * gi
                        if (ref.decay) pr[i] *= 1 - lr * 0.1
                        pr[i] -=
                            lr * (mr[i] / (1 - 0.9.pow(step))) /
                                (sqrt(vr[i] / (1 - 0.95.pow(step))) + 1e-8)
                    }
                }
            }
            val actual = store.snapshot()
            for (ref in refs) {
                val expected = p.getValue(ref.name)
                val got = actual.getValue(ref.name)
                val worst =
                    expected.indices.maxOf {
                        abs(expected[it] - got[it]) / (abs(expected[it]) + 1e-3)
                    }
                worst shouldBeLessThan 1e-4
            }
        }

        test("restoring parameters and optimizer state resumes exactly") {
            val model = Models.build(tinySpec(blocks = 1, loops = 2), vocab)
            fun train(store: ParameterStore, optimizer: AdamWOptimizer, steps: Int) =
                repeat(steps) {
                    store.zeroGradients()
                    backward(model, store, batch)
                    optimizer.step(3e-3, clipNorm = 1.0)
                }
            val straight = ParameterStore(model.parameters, testBackend, seed = 4)
            val straightOpt = AdamWOptimizer(straight, testBackend, config)
            train(straight, straightOpt, 4)

            val first = ParameterStore(model.parameters, testBackend, seed = 4)
            val firstOpt = AdamWOptimizer(first, testBackend, config)
            train(first, firstOpt, 2)
            val resumed = ParameterStore(model.parameters, testBackend, seed = 77)
            val resumedOpt = AdamWOptimizer(resumed, testBackend, config)
            resumed.load(first.snapshot())
            resumedOpt.load(firstOpt.snapshot())
            train(resumed, resumedOpt, 2)

            resumedOpt.steps shouldBe 4
            val a = straight.snapshot()
            val b = resumed.snapshot()
            for (name in a.keys) a.getValue(name).toList() shouldBe b.getValue(name).toList()
        }
    })
