package looplab.models.compiled

import ai.djl.pytorch.engine.PtNDManager
import ai.djl.pytorch.engine.PtSymbolBlock
import ai.djl.pytorch.jni.JniUtils
import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.util.zip.CRC32
import java.util.zip.ZipEntry
import java.util.zip.ZipOutputStream

/**
 * Writes a TorchScript archive (what `torch.jit.save` produces) for a module with no tensors of its
 * own: a zip whose entries sit under one folder: `version`, `constants.pkl` (an empty tuple),
 * `data.pkl` (the module object, pickled) and `code/__torch__.py` (the class source). libtorch
 * compiles the source when it loads the archive.
 */
internal object TorchScriptArchive {
    /** The file-format version libtorch 2.x reads and writes for scripted modules. */
    private const val FORMAT_VERSION = "10"

    /**
     * The source of a module class [className] with no tensors of its own, whose body is [methods]
     * (each `def` indented by two spaces, as libtorch's own `code/__torch__.py` is).
     */
    fun moduleSource(className: String, methods: String): String = buildString {
        appendLine("class $className(Module):")
        appendLine("  __parameters__ = []")
        appendLine("  __buffers__ = []")
        appendLine("  training : bool")
        append(methods)
    }

    /**
     * Compiles the module [className] with [methods] in libtorch and loads it on [manager]'s
     * device.
     */
    fun load(manager: PtNDManager, className: String, methods: String): PtSymbolBlock =
        JniUtils.loadModule(manager, ByteArrayInputStream(archive(className, methods)), true, false)

    /**
     * The archive bytes of the module [className] with [methods], as `torch.jit.load` reads them.
     */
    fun archive(className: String, methods: String): ByteArray =
        write(className, moduleSource(className, methods))

    /** The archive of a module whose class [className] has the whole class [source]. */
    private fun write(className: String, source: String): ByteArray {
        val out = ByteArrayOutputStream()
        ZipOutputStream(out).use { zip ->
            fun entry(name: String, bytes: ByteArray) {
                // Stored, not deflated: libtorch's reader maps entries directly.
                val crc = CRC32().apply { update(bytes) }
                zip.putNextEntry(
                    ZipEntry("archive/$name").apply {
                        method = ZipEntry.STORED
                        size = bytes.size.toLong()
                        compressedSize = bytes.size.toLong()
                        this.crc = crc.value
                    }
                )
                zip.write(bytes)
                zip.closeEntry()
            }
            entry("version", "$FORMAT_VERSION\n".toByteArray())
            entry("constants.pkl", Pickle.emptyTuple())
            entry("data.pkl", Pickle.moduleObject(className, mapOf("training" to true)))
            entry("code/__torch__.py", source.toByteArray())
        }
        return out.toByteArray()
    }
}

/** The few pickle (protocol 2) opcodes a TorchScript archive needs. */
internal object Pickle {
    private const val PROTO: Int = 0x80
    private const val GLOBAL: Int = 'c'.code
    private const val EMPTY_TUPLE: Int = ')'.code
    private const val NEWOBJ: Int = 0x81
    private const val EMPTY_DICT: Int = '}'.code
    private const val MARK: Int = '('.code
    private const val BINUNICODE: Int = 'X'.code
    private const val NEWTRUE: Int = 0x88
    private const val NEWFALSE: Int = 0x89
    private const val SETITEMS: Int = 'u'.code
    private const val BUILD: Int = 'b'.code
    private const val STOP: Int = '.'.code

    fun emptyTuple(): ByteArray =
        byteArrayOf(PROTO.toByte(), 2, EMPTY_TUPLE.toByte(), STOP.toByte())

    /**
     * `__torch__.<className>()` with its attribute dict set by BUILD, as torch.jit.save writes it.
     */
    fun moduleObject(className: String, attributes: Map<String, Boolean>): ByteArray {
        val out = ByteArrayOutputStream()
        out.write(PROTO)
        out.write(2)
        out.write(GLOBAL)
        out.write("__torch__\n$className\n".toByteArray())
        out.write(EMPTY_TUPLE)
        out.write(NEWOBJ)
        out.write(EMPTY_DICT)
        out.write(MARK)
        for ((key, value) in attributes) {
            val bytes = key.toByteArray()
            out.write(BINUNICODE)
            out.write(bytes.size and 0xFF)
            out.write(bytes.size shr 8 and 0xFF)
            out.write(bytes.size shr 16 and 0xFF)
            out.write(bytes.size shr 24 and 0xFF)
            out.write(bytes)
            out.write(if (value) NEWTRUE else NEWFALSE)
        }
        out.write(SETITEMS)
        out.write(BUILD)
        out.write(STOP)
        return out.toByteArray()
    }
}
