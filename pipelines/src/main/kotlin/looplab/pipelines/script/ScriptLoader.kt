package looplab.pipelines.script

import java.io.File
import kotlin.coroutines.Continuation
import kotlin.coroutines.EmptyCoroutineContext
import kotlin.coroutines.startCoroutine
import kotlin.script.experimental.api.KotlinType
import kotlin.script.experimental.api.ResultValue
import kotlin.script.experimental.api.ResultWithDiagnostics
import kotlin.script.experimental.api.ScriptCompilationConfiguration
import kotlin.script.experimental.api.ScriptDiagnostic
import kotlin.script.experimental.api.ScriptEvaluationConfiguration
import kotlin.script.experimental.host.createCompilationConfigurationFromTemplate
import kotlin.script.experimental.host.toScriptSource
import kotlin.script.experimental.jvm.BasicJvmScriptEvaluator
import kotlin.script.experimental.jvm.baseClassLoader
import kotlin.script.experimental.jvm.defaultJvmScriptingHostConfiguration
import kotlin.script.experimental.jvm.jdkHome
import kotlin.script.experimental.jvm.jvm
import kotlin.script.experimental.jvm.loadDependencies
import kotlin.script.experimental.jvm.updateClasspath
import looplab.curriculum.tasks.AlgorithmicTask
import looplab.curriculum.tasks.TaskedExperiment
import looplab.dsl.ExperimentSpec
import looplab.dsl.SweepSpec
import looplab.dsl.UserFacingError
import org.jetbrains.kotlin.scripting.compiler.plugin.impl.ScriptJvmCompilerIsolated

/**
 * A script that does not compile, throws, or does not end in an experiment; the message says where.
 */
public class ScriptException(message: String) : RuntimeException(message), UserFacingError

/**
 * Compiles and runs `*.looplab.kts` files with the embedded Kotlin compiler. Scripts see the DSL,
 * the curriculum API (to define tasks) and the standard library, and nothing else of looplab's
 * classpath: the compiler's own classes stay out of reach.
 */
public object ScriptLoader {
    /**
     * The jars (or class folders) a script compiles against, found from where their classes were
     * loaded.
     */
    internal fun scriptClasspath(): List<File> =
        listOf(
                ExperimentSpec::class.java,
                AlgorithmicTask::class.java,
                Unit::class.java,
                kotlinx.serialization.Serializable::class.java,
            )
            .map { File(it.protectionDomain.codeSource.location.toURI()) }
            .distinct()

    private val compilation: ScriptCompilationConfiguration by lazy {
        createCompilationConfigurationFromTemplate(
            KotlinType(LooplabScript::class),
            defaultJvmScriptingHostConfiguration,
            LooplabScript::class,
        ) {
            jvm {
                updateClasspath(scriptClasspath())
                jdkHome(File(System.getProperty("java.home")))
            }
        }
    }

    // The script's ExperimentSpec must be the host's class, or the cast below would fail.
    private val evaluation = ScriptEvaluationConfiguration {
        jvm {
            baseClassLoader(TaskedExperiment::class.java.classLoader)
            loadDependencies(false)
        }
    }

    /** The experiment [file] declares. */
    public fun load(file: File): ExperimentSpec = loadWithTasks(file).spec

    /** The experiment [file] declares, with any tasks it defines and attaches with `withTasks`. */
    public fun loadWithTasks(file: File): TaskedExperiment =
        when (val result = evaluate(file, EXPECTATION)) {
            is ExperimentSpec -> TaskedExperiment(result)
            is TaskedExperiment -> result
            is SweepSpec ->
                throw ScriptException(
                    "${file.name}: error: the script declares a sweep; run it with `looplab sweep ${file.name}`"
                )
            else ->
                throw ScriptException(
                    "${file.name}: error: $EXPECTATION, but it is a ${result?.let { it::class.simpleName }}"
                )
        }

    /**
     * What [file] declares for `looplab sweep`: an experiment (with its tasks), or a whole
     * `sweep(...) { }`.
     */
    public fun loadForSweep(file: File): Any =
        when (val result = evaluate(file, SWEEP_EXPECTATION)) {
            is ExperimentSpec -> TaskedExperiment(result)
            is TaskedExperiment,
            is SweepSpec -> result
            else ->
                throw ScriptException(
                    "${file.name}: error: $SWEEP_EXPECTATION, but it is a ${result?.let { it::class.simpleName }}"
                )
        }

    private fun evaluate(file: File, expectation: String): Any? {
        if (!file.isFile) throw ScriptException("${file.path}: no such file")
        if (!file.name.endsWith(".looplab.kts"))
            throw ScriptException("${file.path}: an experiment script must be named *.looplab.kts")
        val compiled =
            when (
                val r =
                    ScriptJvmCompilerIsolated(defaultJvmScriptingHostConfiguration)
                        .compile(file.toScriptSource(), compilation)
            ) {
                is ResultWithDiagnostics.Success -> r.value
                is ResultWithDiagnostics.Failure -> throw ScriptException(describe(file, r.reports))
            }
        val evaluated =
            when (val r = runSuspending { BasicJvmScriptEvaluator()(compiled, evaluation) }) {
                is ResultWithDiagnostics.Success -> r.value
                is ResultWithDiagnostics.Failure -> throw ScriptException(describe(file, r.reports))
            }
        return when (val value = evaluated.returnValue) {
            is ResultValue.Value -> value.value
            is ResultValue.Unit ->
                throw ScriptException(
                    "${file.name}: error: $expectation, but the script ends with a statement"
                )
            is ResultValue.Error -> {
                val error = value.error
                val line =
                    error.stackTrace
                        .firstOrNull { it.fileName == file.name }
                        ?.lineNumber
                        ?.takeIf { it > 0 }
                throw ScriptException(
                    "${file.name}${line?.let { ":$it" } ?: ""}: error: ${error.message ?: error::class.simpleName}"
                )
            }
            is ResultValue.NotEvaluated ->
                throw ScriptException("${file.name}: error: the script was not evaluated")
        }
    }

    private const val EXPECTATION =
        "the last expression must be an experiment(\"name\") { ... } (optionally .withTasks(...))"
    private const val SWEEP_EXPECTATION =
        "the last expression must be an experiment(\"name\") { ... } or a sweep(experiment) { ... }"

    /** One line per error, `file:line:column: error: message`, as compilers print them. */
    private fun describe(file: File, reports: List<ScriptDiagnostic>): String =
        reports
            .filter { it.severity >= ScriptDiagnostic.Severity.ERROR }
            .ifEmpty { reports }
            .joinToString("\n") { d ->
                val at = d.location?.start?.let { ":${it.line}:${it.col}" } ?: ""
                "${file.name}$at: ${d.severity.name.lowercase()}: ${d.message}"
            }

    // The evaluator is a suspend function that never suspends; no event loop is needed to run it.
    private fun <T> runSuspending(block: suspend () -> T): T {
        var result: Result<T>? = null
        block.startCoroutine(Continuation(EmptyCoroutineContext) { result = it })
        return checkNotNull(result) { "script evaluation suspended unexpectedly" }.getOrThrow()
    }
}
