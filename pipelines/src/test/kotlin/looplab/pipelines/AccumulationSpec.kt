package looplab.pipelines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.sqrt
import looplab.curriculum.data.Batcher
import looplab.curriculum.data.TaskMixture
import looplab.curriculum.tasks.TaskRegistry
import looplab.curriculum.text.CharTokenizer
import looplab.dsl.LossScope
import looplab.dsl.SpecChecker
import looplab.models.Models
import looplab.models.Pass
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.pipelines.plan.Planner
import looplab.pipelines.train.StepLoss
import looplab.pipelines.train.TokenObjective

/** k micro-batches give the update of one batch k times as large: the loss and every gradient. */
class AccumulationSpec :
    FunSpec({
        val backend = EagerBackend()
        val plan = Planner().compile(tinyExperiment())
        val spec = plan.experiment
        val mixture =
            TaskMixture.resolve(spec.data.algorithmic!!, TaskRegistry(), spec.seed, SpecChecker())!!
        // Answer-only loss: rows carry different numbers of loss-carrying targets, and short
        // examples are padded.
        val batch =
            Batcher(CharTokenizer, LossScope.Answer)
                .batch((0 until 8L).map { mixture.sample(it).example })

        fun gradients(store: ParameterStore): Map<String, FloatArray> =
            store.registry.all.associate { ref ->
                ref.name to store.gradient(ref).use { it.toFloatArray() }
            }

        fun relativeL2(a: FloatArray, b: FloatArray): Double {
            val diff = sqrt(a.indices.sumOf { (a[it] - b[it]).toDouble().let { d -> d * d } })
            return diff / maxOf(sqrt(b.sumOf { it.toDouble() * it }), 1e-8)
        }

        for (variant in spec.models) {
            test(
                "${variant.name}: 2 and 4 micro-batches equal the whole batch within 1e-6, padding included"
            ) {
                val model = Models.build(variant, plan.vocabSize)
                val store = ParameterStore(model.parameters, backend, spec.seed)
                val objective = TokenObjective(EagerExecutor(backend), model, store)
                // Padding is really there, and unevenly: the micro-batches' shares differ.
                (batch.mask.count { it == 0f } > 0) shouldBe true
                fun accumulate(k: Int): Pair<Double, Map<String, FloatArray>> {
                    store.zeroGradients()
                    val loss =
                        objective.split(batch, k).fold(StepLoss.Zero) { sum, micro ->
                            sum.plus(
                                objective.forwardBackward(
                                    micro.batch,
                                    Pass(training = true, step = 3),
                                    micro.weight,
                                ),
                                micro.weight,
                            )
                        }
                    return loss.loss to gradients(store)
                }
                val (wholeLoss, whole) = accumulate(1)
                for (k in listOf(2, 4)) {
                    (objective.split(batch, k).map { it.weight }.distinct().size > 1) shouldBe true
                    val (loss, grads) = accumulate(k)
                    abs(loss - wholeLoss) / wholeLoss shouldBeLessThan 1e-6
                    for ((name, g) in whole) relativeL2(grads.getValue(name), g) shouldBeLessThan
                        1e-6
                }
                store.close()
            }
        }
    })
