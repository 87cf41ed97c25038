package looplab.models.decode

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import kotlin.random.Random
import looplab.models.testBackend
import looplab.models.zoo

/**
 * Cached decoding gives the text of recomputation, for every part and preset of the zoo on both
 * backends: greedy text, a batch of prompts of different lengths against each prompt alone, and
 * seeded sampling.
 */
class CachedGreedySpec :
    FunSpec({
        val vocab = DecodingFixture.vocab
        val backends = DecodingFixture.backends
        val cases = DecodingFixture.cases
        val setUp = DecodingFixture::setUp

        context(
            "cached greedy text equals uncached, and a batch of mixed lengths equals each prompt alone"
        ) {
            withData(cases) { (spec, executor) ->
                setUp(spec, executor) { generator, model, store ->
                    val random = Random(5)
                    val prompts =
                        listOf(3, 7, 5, 7).map { n -> IntArray(n) { random.nextInt(vocab) } }
                    val config = SamplingConfig(maxNewTokens = 8, stopTokens = setOf(0))
                    val batch = generator.generate(prompts, config)
                    // The reference recomputes on the eager backend: a compiled program per
                    // sequence length would make it slow.
                    val uncached =
                        Generator(model, store, backends.getValue("eager"), testBackend.manager)
                            .uncached(prompts, config)
                    batch.map { it.toList() } shouldBe uncached.map { it.toList() }
                    val alone =
                        prompts.map { generator.generate(listOf(it), config).single().toList() }
                    batch.map { it.toList() } shouldBe alone
                }
            }
        }

        context(
            "greedy on the device picks the token the host's argmax of the step's logits picks"
        ) {
            withData(listOf("eager", "compiled")) { kind ->
                setUp(zoo.getValue("baseline").forDecoding(), backends.getValue(kind)) {
                    generator,
                    _,
                    _ ->
                    val random = Random(9)
                    val prompts = List(3) { IntArray(6) { random.nextInt(vocab) } }
                    val (_, first) = generator.prefill(prompts, capacity = 64, horizon = 20)
                    val (_, second) = generator.prefill(prompts, capacity = 64, horizon = 20)
                    first.use {
                        second.use {
                            var tokens = IntArray(3) { it + 1 }
                            repeat(4) { step ->
                                val positions = IntArray(3) { 6 + step }
                                val logits = generator.step(first, tokens, positions)
                                val onHost =
                                    IntArray(3) { row ->
                                        (0 until vocab).maxBy { logits[row * vocab + it] }
                                    }
                                val onDevice = generator.stepGreedy(second, tokens, positions)
                                onDevice.toList() shouldBe onHost.toList()
                                tokens = onHost
                            }
                        }
                    }
                }
            }
        }

        context(
            "sampling from the whole softmax draws on the device the tokens the host draws without a cache"
        ) {
            withData(
                listOf("baseline, eager", "baseline, compiled", "shared loop + injection, compiled")
            ) { case ->
                val (spec, executor) = cases.getValue(case)
                setUp(spec, executor) { generator, model, store ->
                    val random = Random(13)
                    val prompts = listOf(4, 6, 4).map { n -> IntArray(n) { random.nextInt(vocab) } }
                    val config = SamplingConfig(maxNewTokens = 12, temperature = 1.3, seed = 21)
                    Sampler.drawsInIdOrder(config, vocab) shouldBe true
                    val cached = generator.generate(prompts, config).map { it.toList() }
                    val uncached =
                        Generator(model, store, backends.getValue("eager"), testBackend.manager)
                            .uncached(prompts, config)
                            .map { it.toList() }
                    cached shouldBe uncached
                    cached.flatten().toSet().size shouldNotBe 1
                }
            }
        }

        test("sampling with a seed is reproducible, row by row, and another seed differs") {
            setUp(zoo.getValue("baseline").forDecoding(), backends.getValue("eager")) {
                generator,
                _,
                _ ->
                val prompts = listOf(intArrayOf(1, 2, 3), intArrayOf(4, 5))
                val config =
                    SamplingConfig(
                        maxNewTokens = 16,
                        temperature = 1.0,
                        topK = 10,
                        topP = 0.9,
                        repetitionPenalty = 1.3,
                        seed = 42,
                    )
                val once = generator.generate(prompts, config).map { it.toList() }
                generator.generate(prompts, config).map { it.toList() } shouldBe once
                generator.generate(prompts.take(1), config).single().toList() shouldBe once[0]
                generator.generate(prompts, config.copy(seed = 43)).map { it.toList() } shouldNotBe
                    once
            }
        }
    })
