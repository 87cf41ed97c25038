package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import looplab.dsl.AdamW
import looplab.models.compiled.CompiledExecutor
import looplab.models.compiled.FusedAdamW
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.optim.AdamWOptimizer
import looplab.models.optim.Optimizer

/**
 * A training step may allocate native arrays, but none may outlive it: an array left in a
 * long-lived manager (the store's, the optimizer's) is native memory that grows with every step
 * while the Java heap stays flat. DJL's own count of the arrays it still manages is the measure.
 */
class NativeLeakSpec :
    FunSpec({
        val vocab = 17
        val model = Models.build(tinySpec(blocks = 1, loops = 2), vocab)
        val batch = TestBatch.random(vocab, batch = 2, length = 8)
        fun live() = testBackend.manager.managedArrays.size

        fun steps(executor: Executor, optimizer: Optimizer, store: ParameterStore, n: Int) =
            repeat(n) { step ->
                optimizer.zeroGradients()
                executor.run(store, train = true) { ops, params ->
                    listOf(
                        model
                            .loss(
                                ops,
                                params,
                                ops.tokens(batch.inputs, batch.batch, batch.length),
                                ops.tokens(batch.targets, batch.batch, batch.length),
                                ops.floats(batch.mask, listOf(batch.batch, batch.length)),
                                Pass(training = true, step = step.toLong()),
                            )
                            .loss
                    )
                }
                optimizer.step(1e-3, clipNorm = 1.0)
            }

        test("zeroing gradients leaves no array behind") {
            ParameterStore(model.parameters, testBackend, seed = 1).use { store ->
                backward(model, store, batch)
                store.zeroGradients()
                val before = live()
                repeat(20) { store.zeroGradients() }
                live() shouldBe before
            }
        }

        test("eager training steps leave no array behind") {
            ParameterStore(model.parameters, testBackend, seed = 1).use { store ->
                AdamWOptimizer(store, testBackend, AdamW()).use { optimizer ->
                    val executor = EagerExecutor(testBackend)
                    steps(executor, optimizer, store, 2)
                    val before = live()
                    steps(executor, optimizer, store, 10)
                    live() shouldBe before
                }
            }
        }

        test("compiled training steps, and loading an optimizer state, leave no array behind") {
            ParameterStore(model.parameters, testBackend, seed = 1).use { store ->
                FusedAdamW(store, testBackend, AdamW()).use { optimizer ->
                    CompiledExecutor(testBackend).use { executor ->
                        steps(executor, optimizer, store, 2)
                        val before = live()
                        steps(executor, optimizer, store, 10)
                        optimizer.load(optimizer.snapshot())
                        live() shouldBe before
                    }
                }
            }
        }
    })
