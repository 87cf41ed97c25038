package looplab.models.compiled

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import looplab.dsl.Precision
import looplab.models.Models
import looplab.models.TestBatch
import looplab.models.eager.ParameterStore
import looplab.models.testBackend
import looplab.models.tinySpec

class ModeSwitchSpec :
    FunSpec({
        // The same program serves training steps and evaluations between them (same batch shape).
        test("one program alternates training steps and evaluations") {
            val model = Models.build(tinySpec(blocks = 1, loops = 1), 17)
            val store = ParameterStore(model.parameters, testBackend, seed = 2)
            val b = TestBatch.random(17, 2, 6)
            // bf16 too: the optimizing executor's autodiff broke mixed-precision backward after a
            // few runs.
            for (precision in listOf(Precision.Fp32, Precision.Bf16Mixed)) {
                val ex = CompiledExecutor(testBackend, precision)
                val f = { ops: looplab.models.tensor.Ops, p: looplab.models.params.Params ->
                    listOf(
                        model
                            .loss(
                                ops,
                                p,
                                ops.tokens(b.inputs, 2, 6),
                                ops.tokens(b.targets, 2, 6),
                                ops.floats(b.mask, listOf(2, 6)),
                            )
                            .loss
                    )
                }
                val opt = FusedAdamW(store, testBackend, looplab.dsl.AdamW())
                repeat(5) {
                    store.zeroGradients()
                    val trained = ex.run(store, train = true, compute = f)[0][0]
                    opt.step(1e-3, 1.0)
                    val evaluated = ex.run(store, train = false, compute = f)[0][0]
                    (evaluated < trained) shouldBe true // the update lowered the loss on this batch
                }
            }
        }
    })
