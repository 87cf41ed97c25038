package looplab.examples

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.File
import looplab.models.Models
import looplab.models.checks.ModelChecks
import looplab.models.eager.EagerBackend
import looplab.models.eager.EagerExecutor
import looplab.models.eager.ParameterStore
import looplab.pipelines.plan.Planner
import looplab.pipelines.script.ScriptLoader

class ExamplesSpec :
    FunSpec({
        test(
            "every full-size variant plans, and its plan counts exactly the parameters its models declare"
        ) {
            val counts = mutableMapOf<String, Long>()
            for (example in BuiltInExamples.examples()) {
                val full = example.full ?: continue
                val plan = Planner().compile(full())
                for (model in plan.models) {
                    val spec = plan.experiment.models.first { it.name == model.name }
                    // The registry declares every parameter without allocating gigabytes of them.
                    model.physicalParams shouldBe
                        Models.build(spec, plan.vocabSize).parameters.count
                    counts["${example.name}/${model.name}"] = model.physicalParams
                }
            }
            counts["osrt-v3/osrt-v3"] shouldBe 104_537_600L
        }

        test("`looplab plan osrt-v3` prints the full-size count, 104,537,600") {
            val result =
                looplab.pipelines.cli
                    .LooplabCommand()
                    .subcommands(looplab.pipelines.cli.PlanCommand(BuiltInExamples))
                    .test("plan osrt-v3")
            result.statusCode shouldBe 0
            result.output shouldContain "104,537,600"
        }

        test("the nano-ablation script compiles and declares exactly the built-in experiment") {
            // Surefire runs in the module folder; the script lives beside the sources.
            val script = File("scripts/nano-ablation.looplab.kts")
            ScriptLoader.load(script) shouldBe nanoAblation
        }

        test("every built-in example plans, and its models pass the causality and padding checks") {
            EagerBackend().use { backend ->
                for (example in BuiltInExamples.examples()) {
                    val plan =
                        Planner(looplab.curriculum.tasks.TaskRegistry().plus(example.tasks))
                            .compile(example.spec())
                    for (spec in plan.experiment.models) {
                        val model = Models.build(spec, plan.vocabSize)
                        val store = ParameterStore(model.parameters, backend, 1)
                        ModelChecks.causality(model, store, EagerExecutor(backend), length = 16)
                            .passed shouldBe true
                        ModelChecks.paddingInvariance(
                                model,
                                store,
                                EagerExecutor(backend),
                                length = 12,
                                padding = 4,
                            )
                            .passed shouldBe true
                    }
                }
            }
        }
    })
