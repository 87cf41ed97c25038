package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.pow
import kotlin.math.sign
import kotlin.math.sqrt
import kotlin.random.Random
import looplab.dsl.AdamW
import looplab.dsl.Lion
import looplab.dsl.Muon
import looplab.models.eager.ParameterStore
import looplab.models.optim.LionOptimizer
import looplab.models.optim.MuonOptimizer
import looplab.models.optim.Optimizer
import looplab.models.optim.ParamGroups

/** Lion and Muon against host references written from their definitions, in double. */
class OptimizerReferenceSpec :
    FunSpec({
        val vocab = 17
        val model = Models.build(tinySpec(blocks = 1, loops = 2), vocab)
        val refs = model.parameters.all

        /**
         * Writes seeded gradients into the store (after one backward pass has created them) and
         * returns them.
         */
        fun seedGradients(store: ParameterStore, step: Int): Map<String, FloatArray> {
            val random = Random(100 + step)
            return refs.associate { ref ->
                val values =
                    FloatArray(ref.size.toInt()) { (random.nextDouble(-1.0, 1.0) * 0.05).toFloat() }
                store.gradient(ref).use { it.set(values) }
                ref.name to values
            }
        }

        fun run(
            make: (ParameterStore) -> Optimizer,
            steps: Int,
            reference: (step: Int, lr: Double, grads: Map<String, FloatArray>) -> Unit,
        ): ParameterStore {
            val store = ParameterStore(model.parameters, testBackend, seed = 4)
            val optimizer = make(store)
            backward(model, store, TestBatch.random(vocab, batch = 2, length = 8))
            for (step in 1..steps) {
                val grads = seedGradients(store, step)
                val lr = 1e-2 * step
                reference(step, lr, grads)
                optimizer.step(lr, clipNorm = null)
            }
            return store
        }

        test("Lion equals a hand-computed update over 3 steps, decay on matrices only") {
            val config = Lion(beta1 = 0.9, beta2 = 0.99, weightDecay = 0.5)
            val initial = ParameterStore(model.parameters, testBackend, seed = 4).snapshot()
            val p = initial.mapValues { (_, v) -> DoubleArray(v.size) { v[it].toDouble() } }
            val m = p.mapValues { DoubleArray(it.value.size) }
            val store =
                run({ LionOptimizer(it, testBackend, config) }, 3) { _, lr, grads ->
                    for (ref in refs) {
                        val g = grads.getValue(ref.name)
                        val pr = p.getValue(ref.name)
                        val mr = m.getValue(ref.name)
                        for (i in pr.indices) {
                            val c = 0.9 * mr[i] + 0.1 * g[i]
                            if (ref.decay) pr[i] *= 1 - lr * 0.5
                            pr[i] -= lr * sign(c)
                            mr[i] = 0.99 * mr[i] + 0.01 * g[i]
                        }
                    }
                }
            val actual = store.snapshot()
            for (ref in refs) relativeL2(
                p.getValue(ref.name),
                actual.getValue(ref.name),
            ) shouldBeLessThan 1e-6
            store.close()
        }

        test(
            "Muon equals a hand-computed update on the matrices and AdamW's on the rest over 3 steps"
        ) {
            val config =
                Muon(
                    lr = 0.02,
                    momentum = 0.95,
                    nesterov = true,
                    steps = 5,
                    weightDecay = 0.1,
                    adamw = AdamW(weightDecay = 0.1),
                )
            val peak = 1e-2
            val initial = ParameterStore(model.parameters, testBackend, seed = 4).snapshot()
            val p = initial.mapValues { (_, v) -> DoubleArray(v.size) { v[it].toDouble() } }
            val m = p.mapValues { DoubleArray(it.value.size) }
            val v = p.mapValues { DoubleArray(it.value.size) }
            val store =
                run({ MuonOptimizer(it, testBackend, config, schedulePeak = peak) }, 3) {
                    step,
                    lr,
                    grads ->
                    for (ref in refs) {
                        val g = grads.getValue(ref.name)
                        val pr = p.getValue(ref.name)
                        val mr = m.getValue(ref.name)
                        val vr = v.getValue(ref.name)
                        if (ParamGroups.takesMuon(ref)) {
                            val rate = lr * 0.02 / peak
                            for (i in pr.indices) mr[i] = 0.95 * mr[i] + 0.05 * g[i]
                            val nesterov = DoubleArray(pr.size) { 0.05 * g[it] + 0.95 * mr[it] }
                            val o = HostMatrix.newtonSchulz(nesterov, ref.shape[0], ref.shape[1], 5)
                            val scale = sqrt(maxOf(1.0, ref.shape[1].toDouble() / ref.shape[0]))
                            for (i in pr.indices) pr[i] =
                                pr[i] * (1 - rate * 0.1) - rate * scale * o[i]
                        } else {
                            for (i in pr.indices) {
                                mr[i] = 0.9 * mr[i] + 0.1 * g[i]
                                vr[i] = 0.95 * vr[i] + 0.05 * g[i] * g[i]
                                if (ref.decay) pr[i] *= 1 - lr * 0.1
                                pr[i] -=
                                    lr * (mr[i] / (1 - 0.9.pow(step))) /
                                        (sqrt(vr[i] / (1 - 0.95.pow(step))) + 1e-8)
                            }
                        }
                    }
                }
            val actual = store.snapshot()
            (refs.count { ParamGroups.takesMuon(it) } > 0) shouldBe true
            for (ref in refs) relativeL2(
                p.getValue(ref.name),
                actual.getValue(ref.name),
            ) shouldBeLessThan 1e-5
            store.close()
        }

        test(
            "Newton-Schulz brings every singular value into [0.5, 1.5], wide, tall and ill-conditioned"
        ) {
            val random = Random(9)
            for ((rows, cols, conditioning) in
                listOf(
                    Triple(8, 24, 1.0),
                    Triple(24, 8, 1.0),
                    Triple(16, 16, 1.0),
                    Triple(12, 20, 100.0),
                )) {
                // An ill-conditioned input: columns scaled from 1 down to 1/conditioning.
                val g =
                    DoubleArray(rows * cols) { i ->
                        random.nextDouble(-1.0, 1.0) /
                            (1 + (conditioning - 1) * (i % cols) / (cols - 1))
                    }
                val eager =
                    testBackend.manager.newSubManager().use { scope ->
                        MuonOptimizer.orthogonalise(
                                scope.create(
                                    FloatArray(g.size) { g[it].toFloat() },
                                    ai.djl.ndarray.types.Shape(rows.toLong(), cols.toLong()),
                                ),
                                5,
                            )
                            .toFloatArray()
                    }
                val singular =
                    HostMatrix.singularValues(
                        DoubleArray(eager.size) { eager[it].toDouble() },
                        rows,
                        cols,
                    )
                singular.size shouldBe minOf(rows, cols)
                for (s in singular) {
                    s shouldBeGreaterThan 0.5
                    s shouldBeLessThan 1.5
                }
                // And the host reference agrees with the eager op.
                relativeL2(HostMatrix.newtonSchulz(g, rows, cols, 5), eager) shouldBeLessThan 1e-5
            }
        }

        test("Muon never takes an embedding, the head, a gain or a 3-D expert tensor") {
            val untied = Models.build(tinyModel { tiedEmbeddings = false }, vocab).parameters.all
            val muon = untied.filter(ParamGroups::takesMuon)
            muon.map { it.name }.none { "embed" in it || it == "head" || "norm" in it } shouldBe
                true
            muon.all { it.shape.size == 2 } shouldBe true
            untied.count { it.name == "head" } shouldBe 1
        }
    })

/** Small dense matrices on the host, in double: the references the optimizers are held to. */
object HostMatrix {
    fun multiply(a: DoubleArray, b: DoubleArray, n: Int, k: Int, m: Int): DoubleArray {
        val out = DoubleArray(n * m)
        for (i in 0 until n) for (l in 0 until k) {
            val x = a[i * k + l]
            if (x != 0.0) for (j in 0 until m) out[i * m + j] += x * b[l * m + j]
        }
        return out
    }

    fun transpose(a: DoubleArray, rows: Int, cols: Int): DoubleArray =
        DoubleArray(a.size) { a[(it % rows) * cols + it / rows] }

    /**
     * Keller Jordan's quintic iteration on the wide orientation, after dividing by the Frobenius
     * norm.
     */
    fun newtonSchulz(g: DoubleArray, rows: Int, cols: Int, steps: Int): DoubleArray {
        val tall = rows > cols
        var x = if (tall) transpose(g, rows, cols) else g.copyOf()
        val (r, c) = if (tall) cols to rows else rows to cols
        val norm = sqrt(x.sumOf { it * it }) + 1e-7
        x = DoubleArray(x.size) { x[it] / norm }
        repeat(steps) {
            val a = multiply(x, transpose(x, r, c), r, c, r)
            val aa = multiply(a, a, r, r, r)
            val b = DoubleArray(a.size) { -4.7750 * a[it] + 2.0315 * aa[it] }
            val bx = multiply(b, x, r, r, c)
            x = DoubleArray(x.size) { 3.4445 * x[it] + bx[it] }
        }
        return if (tall) transpose(x, r, c) else x
    }

    /**
     * Singular values of a [rows, cols] matrix: square roots of the Gram matrix's eigenvalues
     * (cyclic Jacobi).
     */
    fun singularValues(a: DoubleArray, rows: Int, cols: Int): List<Double> {
        val n = minOf(rows, cols)
        val gram =
            if (rows <= cols) multiply(a, transpose(a, rows, cols), rows, cols, rows)
            else multiply(transpose(a, rows, cols), a, cols, rows, cols)
        val s = gram.copyOf()
        repeat(100) {
            for (p in 0 until n) for (q in p + 1 until n) {
                if (abs(s[p * n + q]) < 1e-15) continue
                val theta = (s[q * n + q] - s[p * n + p]) / (2 * s[p * n + q])
                val t =
                    sign(theta).let { if (it == 0.0) 1.0 else it } /
                        (abs(theta) + sqrt(theta * theta + 1))
                val cs = 1 / sqrt(t * t + 1)
                val sn = t * cs
                for (k in 0 until n) {
                    val kp = s[k * n + p]
                    val kq = s[k * n + q]
                    s[k * n + p] = cs * kp - sn * kq
                    s[k * n + q] = sn * kp + cs * kq
                }
                for (k in 0 until n) {
                    val pk = s[p * n + k]
                    val qk = s[q * n + k]
                    s[p * n + k] = cs * pk - sn * qk
                    s[q * n + k] = sn * pk + cs * qk
                }
            }
        }
        return (0 until n).map { sqrt(maxOf(0.0, s[it * n + it])) }
    }
}
