package looplab.models.compiled

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import looplab.dsl.Precision
import looplab.models.Executor
import looplab.models.LanguageModel
import looplab.models.Models
import looplab.models.Pass
import looplab.models.TestBatch
import looplab.models.Tolerance
import looplab.models.checks.ModelChecks
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.gradients
import looplab.models.testBackend
import looplab.models.zoo

/**
 * The compiled backend runs every part and preset of the zoo: same loss and gradients as eager in
 * fp32, close in bf16-mixed, and causal as a program.
 */
class CompiledZooSpec :
    FunSpec({
        val vocab = 23
        val batch = TestBatch.random(vocab, batch = 2, length = 12, seed = 5)
        val eager = EagerExecutor(testBackend)
        val fp32 = CompiledExecutor(testBackend, Precision.Fp32)
        val bf16 = CompiledExecutor(testBackend, Precision.Bf16Mixed)

        /** Loss, the model's metrics and every gradient of one training pass at a fixed step. */
        fun pass(
            executor: Executor,
            model: LanguageModel,
            store: ParameterStore,
        ): Pair<List<Float>, Map<String, FloatArray>> {
            store.zeroGradients()
            val outputs =
                executor.run(store, train = true) { ops, params ->
                    val out =
                        model.loss(
                            ops,
                            params,
                            ops.tokens(batch.inputs, 2, 12),
                            ops.tokens(batch.targets, 2, 12),
                            ops.floats(batch.mask, listOf(2, 12)),
                            Pass(training = true, step = 3, seed = 1),
                        )
                    listOf(out.loss) + out.metrics.toSortedMap().values
                }
            return outputs.map { it.single() } to store.gradients()
        }

        // Gradients are compared whole (relative L2 with a floor sized to the model's gradients),
        // which
        // holds on any x86-64: see Tolerance for the error model and why per-element bounds did
        // not.
        context(
            "fp32: the compiled loss, metrics and every gradient equal eager within 1e-5 (relative L2, floor)"
        ) {
            withData(zoo) { spec ->
                val model = Models.build(spec, vocab)
                ParameterStore(model.parameters, testBackend, seed = 3).use { store ->
                    val (eagerOut, eagerGrads) = pass(eager, model, store)
                    val (compiledOut, compiledGrads) = pass(fp32, model, store)
                    compiledOut.size shouldBe eagerOut.size
                    for ((c, e) in compiledOut.zip(eagerOut)) withClue("output $c vs $e") {
                        abs(c - e).toDouble() shouldBeLessThan Tolerance.FP32 * abs(e) + 1e-6
                    }
                    Tolerance.mismatches(compiledGrads, eagerGrads, Tolerance.FP32) shouldBe
                        emptyList()
                }
            }
        }

        // bf16 keeps 8 bits of mantissa. The stated tolerance: the loss within 2% of fp32, and all
        // gradients together within 5% in relative L2 norm. (Per tensor is too strict a measure: a
        // scalar gate's gradient sums thousands of rounded terms that cancel.)
        context(
            "bf16-mixed: the loss within 2% and the gradients within 5% (relative L2) of fp32"
        ) {
            withData(zoo) { spec ->
                val model = Models.build(spec, vocab)
                ParameterStore(model.parameters, testBackend, seed = 3).use { store ->
                    val (eagerOut, eagerGrads) = pass(eager, model, store)
                    val (lowOut, lowGrads) = pass(bf16, model, store)
                    (abs(lowOut[0] - eagerOut[0]) / abs(eagerOut[0]).toDouble()) shouldBeLessThan
                        2e-2
                    var difference = 0.0
                    var norm = 0.0
                    for ((name, reference) in eagerGrads) {
                        val low = lowGrads.getValue(name)
                        for (i in reference.indices) {
                            difference += (low[i] - reference[i]).toDouble().let { it * it }
                            norm += reference[i].toDouble() * reference[i]
                        }
                    }
                    kotlin.math.sqrt(difference / norm) shouldBeLessThan 5e-2
                }
            }
        }

        context("every compiled part and preset is causal") {
            withData(zoo) { spec ->
                val model = Models.build(spec, vocab)
                ParameterStore(model.parameters, testBackend, seed = 5).use { store ->
                    val result = ModelChecks.causality(model, store, fp32, length = 12)
                    withClue(result.detail) { result.passed shouldBe true }
                }
            }
        }
    })
