package looplab.models.compiled

import java.nio.file.Files
import java.nio.file.Path
import looplab.models.params.ParamRegistry

/**
 * Writes each compiled training program to a folder, so that its GPU kernels can be timed outside
 * the JVM (`bench/profile-programs.py` runs it under torch.profiler): DJL's released JNI records
 * CPU events only, and a program is plain TorchScript that python3's libtorch runs as libtorch runs
 * it here. Per program: `program-N.pt` (the archive libtorch loads), `program-N.json` (every
 * input's dtype, shape and, for token ids, the range the values span; every parameter's shape;
 * which output backward starts from).
 *
 * Off unless the system property `looplab.dumpPrograms` names a folder (`bench train
 * --dump-programs`).
 */
internal object ProgramDump {
    private val folder: Path?
        get() = System.getProperty(PROPERTY)?.let { Path.of(it) }

    private var written = 0

    const val PROPERTY: String = "looplab.dumpPrograms"

    fun write(
        method: String,
        inputs: List<ProgramInput>,
        registry: ParamRegistry,
        lossOutput: Int,
    ) {
        val dir = folder ?: return
        Files.createDirectories(dir)
        val n = written++
        Files.write(
            dir.resolve("program-$n.pt"),
            TorchScriptArchive.archive(CompiledExecutor.CLASS_NAME, method),
        )
        val inputJson =
            inputs.joinToString(",\n    ", "[\n    ", "\n  ]") { input ->
                when (input) {
                    is ProgramInput.Ints ->
                        """{"dtype": "int64", "shape": ${input.shape}, "low": ${input.values.minOrNull() ?: 0}, "high": ${(input.values.maxOrNull() ?: 0) + 1}}"""
                    is ProgramInput.Floats ->
                        """{"dtype": "float32", "shape": ${input.shape}, "ones": ${input.values.all { it == 1f }}}"""
                    // Decoding state on the device; training programs, the ones dumped, take none.
                    is ProgramInput.Bound ->
                        """{"dtype": "${input.array.dataType.asNumpy()}", "shape": ${input.shape}}"""
                }
            }
        val params = registry.all.joinToString(", ", "[", "]") { ref -> ref.shape.toString() }
        Files.writeString(
            dir.resolve("program-$n.json"),
            "{\n  \"inputs\": $inputJson,\n  \"params\": $params,\n  \"lossOutput\": $lossOutput\n}\n",
        )
    }
}
