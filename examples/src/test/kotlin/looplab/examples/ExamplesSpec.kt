package looplab.examples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import looplab.models.Models
import looplab.models.checks.ModelChecks
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.pipelines.plan.Planner
import looplab.pipelines.script.ScriptLoader
import java.io.File

class ExamplesSpec : FunSpec({
    test("the nano-ablation script compiles and declares exactly the built-in experiment") {
        // Surefire runs in the module folder; the script lives beside the sources.
        val script = File("scripts/nano-ablation.looplab.kts")
        ScriptLoader.load(script) shouldBe nanoAblation
    }

    test("every built-in example plans, and its models pass the causality and padding checks") {
        EagerBackend().use { backend ->
            for (example in BuiltInExamples.examples()) {
                val plan = Planner(looplab.curriculum.tasks.TaskRegistry().plus(example.tasks)).compile(example.spec())
                for (spec in plan.experiment.models) {
                    val model = Models.build(spec, plan.vocabSize)
                    val store = ParameterStore(model.parameters, backend, 1)
                    ModelChecks.causality(model, store, EagerExecutor(backend), length = 16).passed shouldBe true
                    ModelChecks.paddingInvariance(model, store, EagerExecutor(backend), length = 12, padding = 4).passed shouldBe true
                }
            }
        }
    }
})
