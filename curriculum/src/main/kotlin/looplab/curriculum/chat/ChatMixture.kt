package looplab.curriculum.chat

import kotlin.random.Random
import looplab.curriculum.data.Seeds

/** Where a mixture's conversations come from, with its share of the mix. */
public sealed interface ChatSource {
    public val name: String
    public val weight: Double

    /** Conversations made on demand, in and out of distribution. */
    public class Generated(public val generator: ChatGenerator, override val weight: Double) :
        ChatSource {
        override val name: String
            get() = generator.id
    }

    /**
     * A fixed set (a JSONL file); every [heldOutEvery]-th conversation is held out. Nothing is out
     * of distribution.
     */
    public class Fixed(
        override val name: String,
        public val conversations: List<Conversation>,
        override val weight: Double,
    ) : ChatSource
}

/**
 * A weighted mixture of chat sources, sampled by index: conversation `i` of a split depends only on
 * (seed, split, i), so streams are the same with any number of producers and after a resume.
 *
 * Held out: coordinate c of a generator is held out when `c % heldOutEvery == heldOutEvery − 1`,
 * and so is every [heldOutEvery]-th conversation of a fixed set. A generator with a small space of
 * problems can still produce a held-out problem equal to a training one (as the algorithmic tasks
 * can); out-of-distribution samples cannot, their numbers or lengths are outside the training
 * ranges.
 */
public class ChatMixture(
    public val sources: List<ChatSource>,
    private val seed: Long,
    public val heldOutEvery: Int = 20,
) {
    init {
        require(sources.isNotEmpty()) { "a chat mixture needs at least one source" }
        require(heldOutEvery >= 2) { "heldOutEvery must be ≥ 2, was $heldOutEvery" }
    }

    private val trainSets =
        sources.map { s ->
            (s as? ChatSource.Fixed)?.conversations?.filterIndexed { j, _ ->
                j % heldOutEvery != heldOutEvery - 1
            }
        }
    private val heldOutSets =
        sources.map { s ->
            (s as? ChatSource.Fixed)?.conversations?.filterIndexed { j, _ ->
                j % heldOutEvery == heldOutEvery - 1
            }
        }
    private val keys = sources.map { Seeds.of(it.name) }

    /** Training conversation number [index]. */
    public fun train(index: Long): Conversation {
        val coordinate = index / (heldOutEvery - 1) * heldOutEvery + index % (heldOutEvery - 1)
        return draw(coordinate, TRAIN, ChatSplit.InDistribution) { trainSets[it] }
    }

    /** Held-out conversation number [index], in distribution. */
    public fun heldOut(index: Long): Conversation =
        draw(index * heldOutEvery + heldOutEvery - 1, TRAIN, ChatSplit.InDistribution) {
            heldOutSets[it]
        }

    /** Out-of-distribution conversation number [index]; null when no source is generated. */
    public fun outOfDistribution(index: Long): Conversation? =
        if (sources.none { it is ChatSource.Generated }) null
        else draw(index, OOD, ChatSplit.OutOfDistribution) { null }

    private fun draw(
        coordinate: Long,
        stream: Long,
        split: ChatSplit,
        fixed: (Int) -> List<Conversation>?,
    ): Conversation {
        // Only sources with something to give in this split take part (a small file may hold
        // nothing out).
        val eligible =
            sources.indices.filter { i ->
                when (sources[i]) {
                    is ChatSource.Generated -> true
                    is ChatSource.Fixed ->
                        split == ChatSplit.InDistribution && !fixed(i).isNullOrEmpty()
                }
            }
        require(eligible.isNotEmpty()) {
            "no source of this mixture has conversations for this split"
        }
        val pick = Random(Seeds.mix(seed, stream, coordinate))
        val source = weighted(eligible, pick.nextDouble() * eligible.sumOf { sources[it].weight })
        val random = Random(Seeds.mix(seed, stream, keys[source], coordinate))
        return when (val s = sources[source]) {
            is ChatSource.Generated ->
                s.generator.sample(random, split).also { conversation ->
                    val problems = conversation.problems()
                    check(problems.isEmpty()) {
                        "chat generator ${s.generator.id} made a malformed conversation: ${problems.joinToString("; ")}"
                    }
                }
            is ChatSource.Fixed -> fixed(source)!!.let { it[random.nextInt(it.size)] }
        }
    }

    private fun weighted(eligible: List<Int>, target: Double): Int {
        var left = target
        for (i in eligible) {
            left -= sources[i].weight
            if (left < 0) return i
        }
        return eligible.last()
    }

    private companion object {
        const val TRAIN = 1L
        const val OOD = 2L
    }
}
