package looplab.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/**
 * A plain count with a magnitude suffix, e.g. `10.M`; give it a unit with `.tokens` or `.steps`.
 */
@JvmInline public value class Count(public val value: Long)

/** Thousands: `4.k` is 4,000. */
public val Int.k: Count
    get() = Count(this * 1_000L)

/** Millions: `20.M` is 20,000,000. */
public val Int.M: Count
    get() = Count(this * 1_000_000L)

/** Billions: `2.B` is 2,000,000,000. */
public val Int.B: Count
    get() = Count(this * 1_000_000_000L)

/** How long a training stage runs: a number of optimizer steps or of training tokens. */
@Serializable public sealed interface Budget

/** A number of optimizer steps. Written `2_000.steps`. */
@Serializable @SerialName("steps") public data class Steps(val steps: Long) : Budget

/** A number of training tokens (loss-bearing or not, padding excluded). Written `20.M.tokens`. */
@Serializable @SerialName("tokens") public data class Tokens(val tokens: Long) : Budget

public val Int.steps: Steps
    get() = Steps(toLong())
public val Long.steps: Steps
    get() = Steps(this)
public val Count.steps: Steps
    get() = Steps(value)
public val Int.tokens: Tokens
    get() = Tokens(toLong())
public val Long.tokens: Tokens
    get() = Tokens(this)
public val Count.tokens: Tokens
    get() = Tokens(value)
