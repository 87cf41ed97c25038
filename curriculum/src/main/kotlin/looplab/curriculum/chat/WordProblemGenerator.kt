package looplab.curriculum.chat

import kotlin.random.Random

/**
 * Arithmetic word problems from templates, with exact answers and a one-line worked solution as
 * reasoning. In distribution the numbers have 1–2 digits; out of distribution 3–4 (the same
 * templates, so only the size of the numbers is new).
 */
public object WordProblemGenerator : ChatGenerator {
    override val id: String = "word_problems"

    private const val SYSTEM =
        "Solve the problem. Reason briefly, then give the number as the final answer."
    private val names =
        listOf("Ada", "Ben", "Chloe", "Dev", "Ema", "Farid", "Grace", "Hugo", "Ines", "Jon")
    private val items =
        listOf("apple", "marble", "book", "stamp", "coin", "shell", "card", "pencil")

    /** One template: the question and the worked reasoning, from its numbers. */
    private class Problem(val question: String, val think: String, val answer: Long)

    private val templates: List<(Random, (Random) -> Long) -> Problem> =
        listOf(
            { r, n ->
                val (who, item) = names.pick(r) to items.pick(r)
                val a = n(r)
                val b = n(r)
                Problem(
                    "$who has $a ${item}s and gets $b more. How many ${item}s does $who have now?",
                    "$a + $b = ${a + b}",
                    a + b,
                )
            },
            { r, n ->
                val (who, item) = names.pick(r) to items.pick(r)
                val x = n(r)
                val y = n(r)
                val (a, b) = maxOf(x, y) to minOf(x, y)
                Problem(
                    "$who had $a ${item}s and gave away $b. How many ${item}s are left?",
                    "$a - $b = ${a - b}",
                    a - b,
                )
            },
            { r, n ->
                val item = items.pick(r)
                val a = n(r)
                val b = n(r)
                Problem(
                    "There are $a boxes with $b ${item}s in each. How many ${item}s are there in all?",
                    "$a * $b = ${a * b}",
                    a * b,
                )
            },
            { r, n ->
                val (who, item) = names.pick(r) to items.pick(r)
                val each = n(r)
                val friends = n(r)
                val total = each * friends
                Problem(
                    "$who shares $total ${item}s equally among $friends friends. How many ${item}s does each friend get?",
                    "$total / $friends = $each",
                    each,
                )
            },
            { r, n ->
                val (who, item) = names.pick(r) to items.pick(r)
                val a = n(r)
                val b = n(r)
                val c = n(r) % (a + b + 1)
                Problem(
                    "$who has $a ${item}s, buys $b more, then gives $c away. How many ${item}s does $who have?",
                    "$a + $b = ${a + b}, ${a + b} - $c = ${a + b - c}",
                    a + b - c,
                )
            },
        )

    override fun sample(random: Random, split: ChatSplit): Conversation {
        val number: (Random) -> Long =
            when (split) {
                ChatSplit.InDistribution -> { r -> 1L + r.nextInt(99) }
                ChatSplit.OutOfDistribution -> { r -> 100L + r.nextInt(9_900) }
            }
        val problem = templates[random.nextInt(templates.size)](random, number)
        return Conversation.qa(
            problem.question,
            problem.answer.toString(),
            think = problem.think,
            system = SYSTEM,
        )
    }

    private fun <T> List<T>.pick(random: Random): T = this[random.nextInt(size)]
}
