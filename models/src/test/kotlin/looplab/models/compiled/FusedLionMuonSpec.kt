package looplab.models.compiled

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import looplab.dsl.Lion
import looplab.dsl.Muon
import looplab.dsl.ParamRole
import looplab.models.Models
import looplab.models.TestBatch
import looplab.models.backward
import looplab.models.eager.ParameterStore
import looplab.models.optim.LionOptimizer
import looplab.models.optim.MuonOptimizer
import looplab.models.optim.Optimizer
import looplab.models.relativeL2
import looplab.models.testBackend
import looplab.models.tinySpec

/**
 * The fused (TorchScript) Lion and Muon against the eager ones, and their state moving between
 * them.
 */
class FusedLionMuonSpec :
    FunSpec({
        val vocab = 23
        val model = Models.build(tinySpec(blocks = 1, loops = 2), vocab)
        val lion = Lion(beta1 = 0.9, beta2 = 0.99, weightDecay = 0.5)
        val muon = Muon(lr = 0.02, weightDecay = 0.1)
        val peak = 1e-2
        // Per-role multipliers exercise more than one group per rule.
        val multipliers = mapOf(ParamRole.Gain to 0.5, ParamRole.Embedding to 2.0)

        fun train(make: (ParameterStore) -> Optimizer, clip: Double?) =
            trainOnSeededGradients(model, vocab, make, clip)

        val cases =
            listOf<Triple<String, (ParameterStore) -> Optimizer, (ParameterStore) -> Optimizer>>(
                Triple(
                    "Lion",
                    { LionOptimizer(it, testBackend, lion, multipliers) },
                    { FusedLion(it, testBackend, lion, multipliers) },
                ),
                Triple(
                    "Muon",
                    { MuonOptimizer(it, testBackend, muon, peak, multipliers) },
                    { FusedMuon(it, testBackend, muon, peak, multipliers) },
                ),
            )
        for ((name, eagerOf, fusedOf) in cases) {
            // Lion takes a sign: clipping's factor, computed in double on the host and in fp32 in
            // the
            // program, would flip the sign of entries within rounding of zero, so Lion is compared
            // unclipped.
            for (clip in if (name == "Lion") listOf(null) else listOf(0.5, null)) {
                test(
                    "fused $name gives the eager $name's parameters within 1e-5 (relative L2) after 5 steps (clip $clip)"
                ) {
                    val (eager, eagerNorms) = train(eagerOf, clip)
                    val (fused, fusedNorms) = train(fusedOf, clip)
                    for ((a, b) in eagerNorms.zip(fusedNorms)) (abs(a - b) / a) shouldBeLessThan
                        1e-5
                    for (key in eager.keys) relativeL2(
                        fused.getValue(key),
                        eager.getValue(key),
                    ) shouldBeLessThan 1e-5
                }
            }

            test("$name's state round-trips between eager and fused: both continue identically") {
                val straight = ParameterStore(model.parameters, testBackend, seed = 4)
                val first = fusedOf(straight)
                backward(model, straight, TestBatch.random(vocab, 2, 8))
                repeat(3) { first.step(1e-2, null) }
                val state = first.snapshot()
                val copy =
                    ParameterStore(model.parameters, testBackend, seed = 4).apply {
                        load(straight.snapshot())
                    }
                val second = eagerOf(copy).apply { load(state) }
                second.steps shouldBe 3
                second.snapshot().tensors.keys shouldBe state.tensors.keys
                for (store in listOf(straight, copy)) {
                    store.zeroGradients()
                    backward(model, store, TestBatch.random(vocab, 2, 8, seed = 5))
                }
                val eagerOfStraight = eagerOf(straight).apply { load(first.snapshot()) }
                eagerOfStraight.step(1e-2, null)
                second.step(1e-2, null)
                val a = straight.snapshot()
                val b = copy.snapshot()
                for (key in a.keys) relativeL2(b.getValue(key), a.getValue(key)) shouldBeLessThan
                    1e-6
                listOf(first, second, eagerOfStraight).forEach { (it as AutoCloseable).close() }
                straight.close()
                copy.close()
            }
        }
    })
