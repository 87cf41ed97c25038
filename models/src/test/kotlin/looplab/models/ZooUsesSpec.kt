package looplab.models

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import kotlin.math.sqrt
import looplab.models.cost.ModelCost
import looplab.models.eager.ParameterStore

private const val VOCAB = 23

private fun norm(x: FloatArray): Double = sqrt(x.sumOf { it.toDouble() * it })

/**
 * Weight sharing checked by gradients, and the effective and active counts checked against the
 * parameters a forward pass actually reads, for every part and preset of the zoo.
 */
class ZooUsesSpec :
    FunSpec({
        val batch = TestBatch.random(VOCAB, batch = 2, length = 10, seed = 4)

        context(
            "a shared parameter's gradient is the sum of the gradients of per-use copies (the unshared network)"
        ) {
            withData(zoo) { spec ->
                val model = Models.build(spec, VOCAB)
                ParameterStore(model.parameters, testBackend, seed = 8).use { store ->
                    store.perturbZeros()
                    val shared = sharedGradients(model, store, batch)
                    val (copies, uses) = perUseGradients(model, store, batch)
                    val summed =
                        shared.mapValues { (name, grad) ->
                            val n = uses[name] ?: 0
                            FloatArray(grad.size) { i ->
                                (0 until n)
                                    .sumOf { copies.getValue("$name@$it")[i].toDouble() }
                                    .toFloat()
                            }
                        }
                    // Whole tensors, relative L2 with a floor sized to the model's gradients (see
                    // Tolerance).
                    Tolerance.mismatches(summed, shared) shouldBe emptyList()
                }
            }
        }

        test(
            "the new parts reuse their weights: TRM cycles once per cycle and loop, carries once per pass after the first"
        ) {
            val trm = Models.build(zoo.getValue("TRM cycles with a dilated FFN conv"), VOCAB)
            ParameterStore(trm.parameters, testBackend, seed = 8).use { store ->
                store.perturbZeros()
                val (copies, uses) = perUseGradients(trm, store, batch)
                uses.getValue("blocks.0.mlp.gate") shouldBe 2 * 3
                uses.getValue("blocks.0.mlp.conv") shouldBe 2 * 3
                // The copies' gradients differ, so the sum above is a real check, not six times one
                // copy.
                val first = copies.getValue("blocks.0.mlp.up@0")
                val last = copies.getValue("blocks.0.mlp.up@5")
                (norm(FloatArray(first.size) { first[it] - last[it] }) > 1e-7) shouldBe true
            }
            val carries = Models.build(zoo.getValue("TD + GRU carries"), VOCAB)
            ParameterStore(carries.parameters, testBackend, seed = 8).use { store ->
                store.perturbZeros()
                val (copies, uses) = perUseGradients(carries, store, batch)
                uses.getValue("td_carry.a") shouldBe 3
                uses.getValue("gru_carry.input") shouldBe 3
                uses.getValue("gru_carry.state_gates") shouldBe 2
                uses.getValue("gru_carry.out") shouldBe 3
                for (name in
                    listOf(
                        "td_carry.b@2",
                        "gru_carry.out@2",
                        "gru_carry.state_candidate@1",
                    )) withClue(name) { (norm(copies.getValue(name)) > 1e-7) shouldBe true }
            }
        }

        context(
            "effective parameters are the parameters a training forward reads, each read counted (the tied head's re-read of the embedding aside)"
        ) {
            // Random depth draws fewer loops for some steps; its effective count is the full depth.
            withData(zoo.filterValues { it.recursive.randomDepth == null }) { spec ->
                val model = Models.build(spec, VOCAB)
                ParameterStore(model.parameters, testBackend, seed = 1).use { store ->
                    val reads = parameterReads(model, store, batch, training = true)
                    val tiedHead =
                        if (spec.embedding.tied) (spec.vocabSize ?: VOCAB).toLong() * spec.width
                        else 0L
                    ModelCost.of(spec, VOCAB).effectiveParams shouldBe
                        reads.entries.sumOf { (ref, n) -> ref.size * n } - tiedHead
                }
            }
        }

        context(
            "active parameters are those an inference forward reads, less the routed experts a token does not use"
        ) {
            withData(zoo) { spec ->
                val model = Models.build(spec, VOCAB)
                ParameterStore(model.parameters, testBackend, seed = 1).use { store ->
                    val reads = parameterReads(model, store, batch, training = false)
                    val unrouted =
                        spec.recursive.moe?.let { moe ->
                            val blocks = spec.prelude + spec.recursive.blocks + spec.coda
                            blocks.toLong() *
                                (moe.routed - moe.topK) *
                                3 *
                                spec.width *
                                moe.resolvedHidden(spec.width)
                        } ?: 0L
                    ModelCost.of(spec, VOCAB).activeParams shouldBe
                        reads.keys.sumOf { it.size } - unrouted
                }
            }
        }
    })
