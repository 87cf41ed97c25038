package looplab.models.compiled

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import looplab.dsl.AdamW
import looplab.models.Models
import looplab.models.TestBatch
import looplab.models.Tolerance
import looplab.models.backward
import looplab.models.eager.ParameterStore
import looplab.models.optim.AdamWOptimizer
import looplab.models.optim.Optimizer
import looplab.models.testBackend
import looplab.models.tinySpec

class FusedAdamWSpec :
    FunSpec({
        val vocab = 23
        val model = Models.build(tinySpec(blocks = 1, loops = 2), vocab)
        val config = AdamW(beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0.1)

        fun train(make: (ParameterStore) -> Optimizer, clip: Double?) =
            trainOnSeededGradients(model, vocab, make, clip)

        for (clip in listOf(0.5, null)) {
            // Whole tensors in relative L2 with a floor sized to the parameters: see Tolerance.
            test(
                "the fused program gives the eager AdamW's parameters within 1e-5 after 5 steps (clip $clip)"
            ) {
                val (eager, eagerNorms) = train({ AdamWOptimizer(it, testBackend, config) }, clip)
                val (fused, fusedNorms) = train({ FusedAdamW(it, testBackend, config) }, clip)
                // The norm is summed in fp32 by _foreach_norm and in double on the host by the
                // eager optimizer.
                for ((a, b) in eagerNorms.zip(fusedNorms)) (abs(a - b) / a) shouldBeLessThan 1e-5
                Tolerance.mismatches(fused, eager, Tolerance.FP32) shouldBe emptyList()
            }
        }

        test("its state moves to and from the eager optimizer's: a checkpoint resumes on either") {
            val store = ParameterStore(model.parameters, testBackend, seed = 4)
            val fused = FusedAdamW(store, testBackend, config)
            repeat(3) { step ->
                store.zeroGradients()
                backward(model, store, TestBatch.random(vocab, 2, 8, seed = step))
                fused.step(1e-2, 1.0)
            }
            val eager = AdamWOptimizer(store, testBackend, config).apply { load(fused.snapshot()) }
            eager.steps shouldBe 3
            eager.snapshot().tensors.keys shouldBe fused.snapshot().tensors.keys
        }
    })
