package looplab.pipelines.plan

import java.util.Locale

/** Human-readable numbers for plans and tables. */
public object Format {
    /** 1234 → "1.23k", 104537600 → "104.5M". */
    public fun count(n: Number): String {
        val v = n.toDouble()
        return when {
            v >= 1e12 -> "%.2fT".fmt(v / 1e12)
            v >= 1e9 -> "%.2fG".fmt(v / 1e9)
            v >= 1e6 -> "%.2fM".fmt(v / 1e6)
            v >= 1e4 -> "%.1fk".fmt(v / 1e3)
            else -> "%,d".fmt(v.toLong())
        }
    }

    /** Exact count with thousands separators. */
    public fun exact(n: Long): String = "%,d".fmt(n)

    public fun bytes(n: Long): String =
        when {
            n >= 1L shl 30 -> "%.2f GiB".fmt(n / (1L shl 30).toDouble())
            n >= 1L shl 20 -> "%.1f MiB".fmt(n / (1L shl 20).toDouble())
            else -> "%.1f KiB".fmt(n / 1024.0)
        }

    public fun percent(x: Double): String = "%.1f%%".fmt(100 * x)

    public fun seconds(s: Double): String =
        if (s < 60) "%.1f s".fmt(s) else "%dm%02ds".fmt((s / 60).toInt(), (s % 60).toInt())

    private fun String.fmt(vararg args: Any): String = String.format(Locale.ROOT, this, *args)
}

/** A fixed-width text table with a header row. */
public class TextTable(private val header: List<String>) {
    private val rows = mutableListOf<List<String>>()

    public fun row(vararg cells: Any): TextTable = apply { rows += cells.map { it.toString() } }

    public fun render(indent: String = "  "): String {
        val widths =
            header.indices.map { c ->
                (rows.map { it.getOrElse(c) { "" } } + header[c]).maxOf { it.length }
            }
        fun line(cells: List<String>) =
            indent + cells.mapIndexed { c, s -> s.padEnd(widths[c]) }.joinToString("  ").trimEnd()
        return (listOf(line(header)) + rows.map(::line)).joinToString("\n")
    }
}
