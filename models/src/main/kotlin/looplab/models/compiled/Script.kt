package looplab.models.compiled

import looplab.models.tensor.Tensor

/** TorchScript's dtype numbers (c10::ScalarType) for the types looplab uses. */
internal enum class DType(val code: Int) {
    F16(5),
    F32(6),
    F64(7),
    BF16(15),
    I64(4),
    BOOL(11);

    val isFloat: Boolean
        get() = this != I64 && this != BOOL
}

/** A tensor being traced: a name in the program being written, with a known shape and dtype. */
internal class Sym(val name: String, override val shape: List<Int>, val dtype: DType) : Tensor {
    override fun toString(): String = "$name$shape:$dtype"
}

/** The statements of one TorchScript method, with fresh names for their results. */
internal class ScriptWriter {
    private val lines = mutableListOf<String>()
    private var counter = 0

    /** Emits `tN = expression` and returns the symbol for tN. */
    fun let(expression: String, shape: List<Int>, dtype: DType): Sym {
        val name = "t${counter++}"
        lines += "$name = $expression"
        return Sym(name, shape, dtype)
    }

    fun body(indent: String): String = lines.joinToString("\n") { indent + it }
}

/** A number as TorchScript reads it: always with a decimal point, so it is a float. */
internal fun literal(value: Double): String {
    require(value.isFinite()) { "TorchScript has no literal for $value" }
    val text = value.toString()
    return if ('.' in text || 'E' in text || 'e' in text) text else "$text.0"
}

internal fun List<Int>.literal(): String = joinToString(", ", "[", "]")
