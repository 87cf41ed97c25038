package looplab.examples

import kotlin.random.Random
import looplab.curriculum.tasks.AlgorithmicTask
import looplab.curriculum.tasks.Example
import looplab.dsl.*

/**
 * A task of our own, defined outside looplab: `sort:dbca=` → `abcd`. Any [AlgorithmicTask] works;
 * the example registers it through `BuiltInExample(tasks = ...)`.
 */
object SortLetters : AlgorithmicTask {
    override val id = TaskId("sort")
    override val lengthUnit = "letters"
    override val trainLengths = LengthRange(2, 6)
    override val oodLengths = listOf(8, 10)

    override fun sample(random: Random, length: Int): Example {
        val text = String(CharArray(length) { 'a' + random.nextInt(26) })
        return Example("sort:$text=", String(text.toCharArray().sortedArray()))
    }

    override fun maxChars(length: Int) = "sort:=".length + 2 * length

    override fun maxAnswerChars(length: Int) = length
}

/**
 * Seed 001's split curriculum at CPU size: algorithmic tokens first (three built-in tasks and the
 * user-defined [SortLetters]), then Jane Austen with a little algorithmic replay, byte-level
 * tokens, scored by greedy accuracy and by held-out perplexity and bits per byte (gzip's is printed
 * beside it). Two variants: a 4-layer baseline and one block looped 4 times. A few minutes on 2
 * cores.
 */
val austenSplit =
    experiment("austen-split") {
        seed = 1234
        data {
            tokenizer = Tokenizers.bytes
            algorithmic {
                task(Task.Parity)
                task(Task.Addition)
                task(Task.Copy)
                task(SortLetters.id)
            }
            language(Corpus.Austen, sequenceLength = 64)
            curriculum {
                phase(tokens = 150.k, algorithmic = 1.0)
                phase(tokens = 450.k, algorithmic = 0.1, language = 0.9)
            }
        }
        val small = modelPart {
            width = 128
            heads = 4
            contextLength = 64
        }
        model("baseline") {
            small()
            layers = 4
        }
        model("shared_loop") {
            small()
            recursive(blocks = 1, loops = 4)
        }
        pipeline {
            val base = pretrain {
                budget = 600.k.tokens
                batchSize = 32
                lr = cosine(peak = 2e-3, warmup = 50.steps)
                evalEvery = 200.steps
                evalSamples = 16
            }
            eval(base) {
                algorithmic(samples = 50, maxNewTokens = 40)
                perplexity(maxTokens = 32_768)
            }
        }
    }
