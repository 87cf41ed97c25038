package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.exp
import kotlin.math.ln
import kotlin.random.Random
import looplab.dsl.LossAggregation
import looplab.dsl.Precision
import looplab.models.compiled.CompiledExecutor
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.models.params.Init
import looplab.models.params.ParamRegistry
import looplab.models.rl.Grpo

class GrpoSpec :
    FunSpec({
        test(
            "advantages are normalised within each group; Dr. GRPO only centres them; equal rewards give zero"
        ) {
            val rewards = doubleArrayOf(1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5)
            val scaled = Grpo.advantages(rewards, groupSize = 4)
            val std = 0.5 + 1e-4
            scaled
                .toList()
                .zip(listOf(0.5 / std, -0.5 / std, -0.5 / std, 0.5 / std, 0.0, 0.0, 0.0, 0.0))
                .forEach { (a, e) -> a shouldBe (e plusOrMinus 1e-12) }
            Grpo.advantages(rewards, groupSize = 4, scaleByStd = false).toList() shouldBe
                listOf(0.5, -0.5, -0.5, 0.5, 0.0, 0.0, 0.0, 0.0)
            Grpo.zeroVarianceShare(rewards, 4) shouldBe 0.5
        }

        // A hand-built group: 4 completions of 3 tokens over a vocabulary of 5, the last completion
        // one
        // token shorter; the policy's logits are the parameter, the rest constants.
        val n = 4
        val t = 3
        val v = 5
        val registry = ParamRegistry()
        val logitsRef =
            registry
                .scope("")
                .tensor("logits", listOf(n, t, v), Init.Normal(1.0), looplab.dsl.ParamRole.Control)
        val store = ParameterStore(registry, testBackend, seed = 11)
        val z = store.snapshot().getValue("logits")
        val targets = IntArray(n * t) { (it * 3 + 1) % v }
        val mask = FloatArray(n * t) { if (it == n * t - 1) 0f else 1f }
        val r = Random(2)
        fun logProb(i: Int): Double {
            val row = (0 until v).map { z[i * v + it].toDouble() }
            val max = row.max()
            return row[targets[i]] - max - ln(row.sumOf { exp(it - max) })
        }
        val policy = DoubleArray(n * t) { logProb(it) }
        // The sampling policy differs enough that some ratios leave [0.8, 1.2].
        val old = DoubleArray(n * t) { policy[it] + r.nextDouble(-0.4, 0.4) }
        val ref = DoubleArray(n * t) { policy[it] + r.nextDouble(-0.3, 0.3) }
        val advantages = doubleArrayOf(1.2, -0.7, 0.4, -0.9)
        val epsilon = 0.2
        val beta = 0.04

        /** Loss and dLoss/dlogits computed directly, in doubles. */
        fun direct(aggregation: LossAggregation): Pair<Double, DoubleArray> {
            val weight =
                DoubleArray(n * t) { i ->
                    val row = i / t
                    when (aggregation) {
                        LossAggregation.Token -> mask[i] / mask.sum().toDouble()
                        LossAggregation.Sequence ->
                            mask[i] / (n * (0 until t).sumOf { mask[row * t + it].toDouble() })
                    }
                }
            var loss = 0.0
            val grad = DoubleArray(n * t * v)
            for (i in 0 until n * t) {
                val a = advantages[i / t]
                val ratio = exp(policy[i] - old[i])
                val clipped = ratio.coerceIn(1 - epsilon, 1 + epsilon)
                val objective = minOf(ratio * a, clipped * a)
                val kl = exp(ref[i] - policy[i]) - (ref[i] - policy[i]) - 1
                loss += weight[i] * (-objective + beta * kl)
                val clipActive = clipped * a < ratio * a
                val dLogProb =
                    -(if (clipActive) 0.0 else ratio * a) + beta * (1 - exp(ref[i] - policy[i]))
                val row = (0 until v).map { z[i * v + it].toDouble() }
                val max = row.max()
                val total = row.sumOf { exp(it - max) }
                for (k in 0 until v) {
                    val softmax = exp(row[k] - max) / total
                    grad[i * v + k] =
                        weight[i] * dLogProb * ((if (k == targets[i]) 1.0 else 0.0) - softmax)
                }
            }
            return loss to grad
        }

        fun computed(
            executor: Executor,
            aggregation: LossAggregation,
            reference: DoubleArray = ref,
        ): Triple<Double, FloatArray, List<Double>> {
            store.zeroGradients()
            val out =
                executor.run(store, train = true) { ops, params ->
                    val logProbs = ops.tokenLogProbs(params[logitsRef], ops.tokens(targets, n, t))
                    fun floats(values: DoubleArray, shape: List<Int>) =
                        ops.floats(FloatArray(values.size) { values[it].toFloat() }, shape)
                    val terms =
                        Grpo.loss(
                            ops,
                            logProbs,
                            floats(old, listOf(n, t)),
                            floats(reference, listOf(n, t)),
                            floats(advantages, listOf(n, 1)),
                            ops.floats(mask, listOf(n, t)),
                            epsilon,
                            beta,
                            aggregation,
                        )
                    listOf(terms.loss, terms.kl, terms.clipFraction)
                }
            return Triple(
                out[0][0].toDouble(),
                store.gradients().getValue("logits"),
                out.drop(1).map { it[0].toDouble() },
            )
        }

        for ((name, executor) in
            listOf(
                "eager" to EagerExecutor(testBackend),
                "compiled" to CompiledExecutor(testBackend, Precision.Fp32),
            )) {
            for (aggregation in LossAggregation.entries) {
                test(
                    "$name, $aggregation aggregation: loss and gradient equal the direct computation"
                ) {
                    val (expectedLoss, expectedGrad) = direct(aggregation)
                    val (loss, grad, _) = computed(executor, aggregation)
                    abs(loss - expectedLoss) shouldBeLessThan 1e-5 * abs(expectedLoss) + 1e-7
                    val reference = FloatArray(expectedGrad.size) { expectedGrad[it].toFloat() }
                    Tolerance.close(
                        grad,
                        reference,
                        1e-5,
                        1e-5 * Tolerance.rms(listOf(reference)),
                    ) shouldBe true
                }
            }
            test(
                "$name: the k3 KL is 0 when the policy is the reference, and positive otherwise; the clip fraction counts ratios outside the range"
            ) {
                val (_, _, same) = computed(executor, LossAggregation.Token, reference = policy)
                abs(same[0]) shouldBeLessThan 1e-7
                val (_, _, different) = computed(executor, LossAggregation.Token)
                different[0] shouldBeGreaterThan 1e-4
                val outside =
                    (0 until n * t).count {
                        mask[it] == 1f &&
                            (policy[it] - old[it] > ln(1.2) || policy[it] - old[it] < ln(0.8))
                    }
                different[1] shouldBe ((outside.toDouble() / mask.sum()) plusOrMinus 1e-6)
                (outside > 0) shouldBe true
            }
        }

        test(
            "entropy of the next-token distribution is the direct -Σ p log p, averaged over the mask"
        ) {
            val entropy =
                EagerExecutor(testBackend)
                    .run(store, train = false) { ops, params ->
                        listOf(Grpo.entropy(ops, params[logitsRef], ops.floats(mask, listOf(n, t))))
                    }
                    .single()[0]
            val expected =
                (0 until n * t)
                    .filter { mask[it] == 1f }
                    .map { i ->
                        val row = (0 until v).map { z[i * v + it].toDouble() }
                        val total = row.sumOf { exp(it) }
                        -row.sumOf {
                            val p = exp(it) / total
                            p * ln(p)
                        }
                    }
                    .average()
            entropy.toDouble() shouldBe (expected plusOrMinus 1e-5)
        }
    })
