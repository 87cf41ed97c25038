package looplab.curriculum.tasks

import kotlin.random.Random

/** Random lowercase text for the string tasks. */
internal object Letters {
    /** [length] letters drawn uniformly from a to z. */
    fun word(random: Random, length: Int): String =
        String(CharArray(length) { 'a' + random.nextInt(26) })
}
