package looplab.models.compiled

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDList
import ai.djl.ndarray.NDManager
import ai.djl.pytorch.engine.PtNDManager
import ai.djl.pytorch.engine.PtSymbolBlock
import ai.djl.pytorch.jni.IValueUtils
import ai.djl.pytorch.jni.JniUtils
import looplab.dsl.Precision
import looplab.models.Executor
import looplab.models.StatefulExecutor
import looplab.models.StatefulOutputs
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.eager.toShape
import looplab.models.params.Params
import looplab.models.tensor.Ops
import looplab.models.tensor.Tensor

/**
 * Runs computations as TorchScript programs inside libtorch: every call traces the computation with
 * [ScriptOps] (cheap: it only writes text), and the program is compiled and loaded once per
 * distinct text, so a new batch shape or a different per-pass decision gets its own program.
 * Parameters stay the store's NDArrays and are passed in as a list; gradients reach them through
 * DJL's gradient collector, as in the eager backend.
 */
public class CompiledExecutor
@JvmOverloads
constructor(
    private val backend: EagerBackend,
    public val precision: Precision = Precision.Fp32,
    /**
     * Lets TorchScript optimize the programs of [runStateful] (inference only: decoding): after two
     * profiling runs it fuses element-wise kernels. Training programs are never optimized (see
     * init). An experiment measured by `bench generate --fuse`.
     */
    public val optimizeInference: Boolean = false,
) : Executor, StatefulExecutor, AutoCloseable {
    private val programs =
        object : LinkedHashMap<String, PtSymbolBlock>(16, 0.75f, true) {
            override fun removeEldestEntry(
                eldest: MutableMap.MutableEntry<String, PtSymbolBlock>
            ): Boolean = (size > PROGRAM_CACHE).also { if (it) eldest.value.close() }
        }
    /** Host time of [runStateful] calls (decoding steps), by phase. */
    public val statefulTimes: CallTimes = CallTimes()

    /**
     * The most fp32 logits the fused head and loss holds at once (it goes through the positions in
     * chunks of that size). Tests shrink it to exercise several chunks; set it before the first
     * run, since programs are cached by their inputs' shapes.
     */
    internal var headLossChunkBytes: Long = DEFAULT_HEAD_LOSS_CHUNK_BYTES

    private val low =
        when (precision) {
            Precision.Fp32 -> null
            Precision.Bf16Mixed -> DType.BF16
            Precision.Fp16Mixed -> DType.F16
        }

    init {
        // TorchScript's optimizing executor replaces the program, after a few profiling runs, with
        // fused graphs differentiated by its own symbolic autodiff, which gets mixed-precision
        // casts
        // wrong (a bf16 matmul's backward receives an fp32 gradient). Plain interpretation records
        // every ATen op in ordinary autograd, like eager; the wins we compile for (fused attention,
        // bf16 matrix products, the fused optimizer) do not depend on the fuser.
        JniUtils.setGraphExecutorOptimize(false)
    }

    override fun run(
        store: ParameterStore,
        train: Boolean,
        lossScale: Double,
        compute: (Ops, Params) -> List<Tensor>,
    ): List<FloatArray> {
        val ops = ScriptOps(store.registry, low, differentiable = train, headLossChunkBytes)
        val outputs = compute(ops, ops)
        // The scaled loss is an extra, last output: backward starts there, the caller sees the
        // rest.
        val scaled = train && lossScale != 1.0
        val method =
            ops.forwardMethod(
                if (scaled) outputs + ops.scale(outputs.first(), lossScale) else outputs
            )
        if (train && method !in programs)
            ProgramDump.write(method, ops.inputs, store.registry, if (scaled) outputs.size else 0)
        val program = program(method)
        return backend.scoped(store.values) { _, scope ->
            val arguments = NDList()
            ops.inputs.forEach { arguments.add(argument(it, scope)) }
            // The store holds its arrays in declaration order, the order of the registry's index.
            check(store.values.size == store.registry.index.size) {
                "the parameter store does not hold every declared parameter"
            }
            store.values.forEach { array -> arguments.add(array.also { it.name = PARAMS }) }
            // DJL runs a method called "not training" under c10::InferenceMode, and a program that
            // was run with autograd before then fails ("inference tensors cannot be saved for
            // backward"). Without a gradient collector, grad mode is off on this thread anyway,
            // so every call goes in "training" and grad mode alone decides whether autograd
            // records.
            val results =
                if (train) {
                    backend.gradients().use { collector ->
                        IValueUtils.forward(program, arguments, true).also {
                            collector.backward(if (scaled) it[it.size - 1] else it[0])
                        }
                    }
                } else {
                    IValueUtils.forward(program, arguments, true)
                }
            results.take(outputs.size).map { it.toFloatArray() }
        }
    }

    override fun runStateful(
        store: ParameterStore,
        state: List<NDArray>,
        keep: NDManager,
        compute: (Ops, Params, List<Tensor>) -> StatefulOutputs,
    ): Pair<List<FloatArray>, List<NDArray>> {
        val start = System.nanoTime()
        val ops = ScriptOps(store.registry, low, differentiable = false, headLossChunkBytes)
        val outputs = compute(ops, ops, state.map { ops.bind(it) })
        val program = program(ops.forwardMethod(outputs.host + outputs.state))
        return backend.scoped(store.values, state) { _, scope ->
            val traced = System.nanoTime()
            val arguments = NDList()
            ops.inputs.forEach { arguments.add(argument(it, scope)) }
            store.values.forEach { array -> arguments.add(array.also { it.name = PARAMS }) }
            // The flag is global; it is read when a program runs, so set it for this call only.
            if (optimizeInference) JniUtils.setGraphExecutorOptimize(true)
            val results =
                try {
                    IValueUtils.forward(program, arguments, true)
                } finally {
                    if (optimizeInference) JniUtils.setGraphExecutorOptimize(false)
                }
            val dispatched = System.nanoTime()
            val host = results.take(outputs.host.size).map { it.toFloatArray() }
            statefulTimes.add(traced - start, dispatched - traced, System.nanoTime() - dispatched)
            host to
                results.drop(outputs.host.size).map {
                    it.also { array ->
                        array.name = null
                        array.attach(keep)
                    }
                }
        }
    }

    /** Frees every compiled program. */
    override fun close() {
        programs.values.forEach { it.close() }
        programs.clear()
    }

    /** The TorchScript text this computation compiles to, for inspection and tests. */
    public fun source(store: ParameterStore, compute: (Ops, Params) -> List<Tensor>): String {
        val ops = ScriptOps(store.registry, low, headLossChunkBytes = headLossChunkBytes)
        return TorchScriptArchive.moduleSource(CLASS_NAME, ops.forwardMethod(compute(ops, ops)))
    }

    /** The program of a traced `forward` method, compiled once per distinct text. */
    private fun program(method: String): PtSymbolBlock =
        programs.getOrPut(method) {
            TorchScriptArchive.load(backend.manager as PtNDManager, CLASS_NAME, method)
        }

    private fun argument(input: ProgramInput, scope: ai.djl.ndarray.NDManager): NDArray {
        val shape = input.shape.toShape()
        return when (input) {
            is ProgramInput.Ints ->
                scope.create(LongArray(input.values.size) { input.values[it].toLong() }, shape)
            is ProgramInput.Floats -> scope.create(input.values, shape)
            is ProgramInput.Bound -> input.array.also { it.name = null }
        }
    }

    internal companion object {
        const val CLASS_NAME = "Program"
        /** DJL groups arguments named `xs[]` into one `List[Tensor]` argument. */
        const val PARAMS = "params[]"
        const val PROGRAM_CACHE = 32
    }
}

/**
 * The traced `forward` method of the program's class, returning [outputs] (in fp32: DJL has no
 * bf16).
 */
internal fun ScriptOps.forwardMethod(outputs: List<Tensor>): String {
    val results = outputs.map { finish(it) }
    val arguments = inputs.indices.joinToString("") { "x$it: Tensor, " }
    val returnType = results.joinToString(", ", "Tuple[", "]") { "Tensor" }
    return buildString {
        appendLine(
            "  def forward(self: __torch__.${CompiledExecutor.CLASS_NAME}, ${arguments}params: List[Tensor]) -> $returnType:"
        )
        appendLine(body())
        appendLine("    return (${results.joinToString(", ")},)")
    }
}
