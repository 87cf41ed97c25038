package looplab.curriculum.tasks

import kotlin.random.Random

/** Random decimal numbers for the arithmetic tasks. */
internal object Digits {
    /** A number of exactly [digits] digits (no leading zero unless it is 0 itself). */
    fun number(random: Random, digits: Int): String = buildString {
        append(if (digits == 1) random.nextInt(10) else 1 + random.nextInt(9))
        repeat(digits - 1) { append(random.nextInt(10)) }
    }
}
