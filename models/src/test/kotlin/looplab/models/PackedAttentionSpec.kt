package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlin.random.Random
import looplab.dsl.Precision
import looplab.models.compiled.CompiledExecutor
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore

class PackedAttentionSpec :
    FunSpec({
        val vocab = 31
        val length = 12
        val model = Models.build(tinySpec(blocks = 1, loops = 2), vocab)
        val store = ParameterStore(model.parameters, testBackend, seed = 4)
        // Row 0: documents of 5 and 7 positions; row 1: 8 and 4.
        val segments =
            IntArray(2 * length) { i ->
                val t = i % length
                if (i < length) (if (t < 5) 0 else 1) else (if (t < 8) 0 else 1)
            }
        val tokens = IntArray(2 * length) { Random(it).nextInt(vocab) }

        fun logits(executor: Executor, ids: IntArray, packed: Boolean): FloatArray =
            executor
                .run(store, train = false) { ops, params ->
                    val x = ops.tokens(ids, 2, length)
                    listOf(
                        if (packed)
                            (model as PackedSequences).packedLogits(
                                ops,
                                params,
                                x,
                                ops.tokens(segments, 2, length),
                            )
                        else model.logits(ops, params, x)
                    )
                }
                .single()

        /** The logits of row [row] at positions [positions], flattened. */
        fun FloatArray.at(row: Int, positions: IntRange): FloatArray =
            positions
                .flatMap { t -> (0 until vocab).map { this[(row * length + t) * vocab + it] } }
                .toFloatArray()

        fun perturbFirstDocument(): IntArray =
            tokens.copyOf().also { ids ->
                for (i in ids.indices) if (segments[i] == 0) ids[i] = (ids[i] + 1 + i) % vocab
            }

        for ((name, executor) in
            listOf(
                "eager" to EagerExecutor(testBackend),
                "compiled" to CompiledExecutor(testBackend, Precision.Fp32),
            )) {
            test(
                "$name: changing the first conversation of a packed row leaves the second one's logits unchanged"
            ) {
                val before = logits(executor, tokens, packed = true)
                val after = logits(executor, perturbFirstDocument(), packed = true)
                val reference = before.at(0, 5 until 12) + before.at(1, 8 until 12)
                val moved = after.at(0, 5 until 12) + after.at(1, 8 until 12)
                Tolerance.close(
                    moved,
                    reference,
                    Tolerance.FP32,
                    Tolerance.FP32 * Tolerance.rms(listOf(reference)),
                ) shouldBe true
                // The perturbation is real: the first conversations' logits move, and without the
                // document mask so do the second ones' (so this test can fail).
                Tolerance.close(after.at(0, 0 until 5), before.at(0, 0 until 5), 1e-2, 0.0) shouldBe
                    false
                val plainBefore = logits(executor, tokens, packed = false)
                val plainAfter = logits(executor, perturbFirstDocument(), packed = false)
                Tolerance.close(
                    plainAfter.at(0, 5 until 12),
                    plainBefore.at(0, 5 until 12),
                    1e-2,
                    0.0,
                ) shouldBe false
            }
        }

        test(
            "a packed conversation's logits equal those of the conversation alone at the start of a row (RoPE needs no restart)"
        ) {
            val packed = logits(EagerExecutor(testBackend), tokens, packed = true).at(0, 5 until 12)
            // The second conversation of row 0 alone, at positions 0..6 of a row of 7.
            val alone =
                EagerExecutor(testBackend)
                    .run(store, train = false) { ops, params ->
                        listOf(
                            model.logits(ops, params, ops.tokens(tokens.copyOfRange(5, 12), 1, 7))
                        )
                    }
                    .single()
            // Rotations at other absolute positions round differently; the scores are otherwise
            // equal.
            Tolerance.close(packed, alone, 1e-4, 1e-4 * Tolerance.rms(listOf(alone))) shouldBe true
        }

        test("packed rows give the same loss and gradients eager and compiled") {
            fun pass(executor: Executor): Pair<Float, Map<String, FloatArray>> {
                store.zeroGradients()
                val targets = IntArray(tokens.size) { (tokens[it] + 3) % vocab }
                val mask = FloatArray(tokens.size) { if (it % 5 == 0) 0f else 1f }
                val loss =
                    executor
                        .run(store, train = true) { ops, params ->
                            listOf(
                                (model as PackedSequences)
                                    .packedLoss(
                                        ops,
                                        params,
                                        ops.tokens(tokens, 2, length),
                                        ops.tokens(targets, 2, length),
                                        ops.floats(mask, listOf(2, length)),
                                        ops.tokens(segments, 2, length),
                                    )
                                    .loss
                            )
                        }
                        .single()
                        .single()
                return loss to store.gradients()
            }
            val (eagerLoss, eagerGrads) = pass(EagerExecutor(testBackend))
            val (compiledLoss, compiledGrads) = pass(CompiledExecutor(testBackend, Precision.Fp32))
            (kotlin.math.abs(compiledLoss - eagerLoss) / eagerLoss < 1e-5) shouldBe true
            Tolerance.mismatches(compiledGrads, eagerGrads) shouldBe emptyList()
        }
    })
