package looplab.models.decode

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.doubles.shouldBeLessThan
import kotlin.random.Random
import looplab.models.Executor
import looplab.models.zoo

/**
 * Cached decoding gives the logits of recomputation, for every part and preset of the zoo on both
 * backends.
 */
class CachedLogitsSpec :
    FunSpec({
        val vocab = DecodingFixture.vocab
        val backends = DecodingFixture.backends
        val cases = DecodingFixture.cases
        val setUp = DecodingFixture::setUp

        /**
         * Prefill + 32 cached steps against a full recomputation of the same tokens (fp32, relative
         * L2 < 1e-5).
         */
        fun checkCached(spec: looplab.dsl.ModelSpec, executor: Executor) {
            setUp(spec, executor) { generator, model, store ->
                val rows = 2
                val prompt = 5
                val steps = 32
                val random = Random(3)
                val sequences = List(rows) { IntArray(prompt + steps) { random.nextInt(vocab) } }
                val full =
                    executor
                        .run(store, train = false) { ops, params ->
                            val flat =
                                IntArray(rows * (prompt + steps)) {
                                    sequences[it / (prompt + steps)][it % (prompt + steps)]
                                }
                            listOf(
                                model.logits(ops, params, ops.tokens(flat, rows, prompt + steps))
                            )
                        }[0]
                fun reference(position: Int) =
                    FloatArray(rows * vocab) { i ->
                        full[((i / vocab) * (prompt + steps) + position) * vocab + i % vocab]
                    }
                val (first, state) =
                    generator.prefill(
                        sequences.map { it.copyOf(prompt) },
                        capacity = 64,
                        horizon = prompt + steps,
                    )
                state.use {
                    val cached = mutableListOf(first)
                    val expected = mutableListOf(reference(prompt - 1))
                    for (s in 0 until steps - 1) {
                        val position = prompt + s
                        cached +=
                            generator.step(
                                state,
                                IntArray(rows) { sequences[it][position] },
                                IntArray(rows) { position },
                            )
                        expected += reference(position)
                    }
                    val error =
                        relativeL2(
                            cached.flatMap { it.asIterable() }.toFloatArray(),
                            expected.flatMap { it.asIterable() }.toFloatArray(),
                        )
                    withClue("relative L2 error $error") { error shouldBeLessThan 1e-5 }
                }
            }
        }

        context(
            "prefill + 32 cached steps give the logits of a full recomputation (fp32, relative L2 < 1e-5)"
        ) {
            withData(cases) { (spec, executor) -> checkCached(spec, executor) }
        }

        // NTK scaling is fixed by the model, so decoding past the training context still matches
        // recomputation.
        context(
            "NTK RoPE decoded past a 16-token context gives the logits of a full recomputation"
        ) {
            val ntk = zoo.getValue("RoPE base 500k, NTK").copy(contextLength = 16)
            withData(backends) { executor -> checkCached(ntk, executor) }
        }
    })
