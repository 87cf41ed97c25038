package looplab.pipelines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeInRange
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import looplab.dsl.*
import looplab.models.Models
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.pipelines.plan.PlanPrinter
import looplab.pipelines.plan.Planner

class PlannerSpec :
    FunSpec({
        test("the plan's parameter count equals the built model's, variant by variant") {
            val plan = Planner().compile(tinyExperiment())
            EagerBackend().use { backend ->
                for (model in plan.models) {
                    val spec = plan.experiment.models.first { it.name == model.name }
                    val built = Models.build(spec, plan.vocabSize)
                    model.physicalParams shouldBe ParameterStore(built.parameters, backend, 1).count
                }
            }
            plan.models.first { it.name == "shared_loop" }.effectiveParams shouldBe
                plan.models.first { it.name == "baseline" }.physicalParams
        }

        test("the plan resolves defaults: task grids and the FFN width are written out") {
            val spec =
                experiment("defaults") {
                    data { algorithmic(Task.Parity) }
                    model("m") {
                        width = 64
                        heads = 4
                        layers = 1
                        contextLength = 80
                    }
                    pipeline { pretrain { budget = 10.steps } }
                }
            val plan = Planner().compile(spec)
            val task = plan.experiment.data.algorithmic!!.tasks.single()
            task.train shouldBe LengthRange(1, 8)
            task.ood shouldBe listOf(12, 16, 24, 32, 48, 64)
            plan.experiment.models.single().ffnHidden shouldBe 192
        }

        test("a token budget becomes an estimated step count") {
            val spec =
                tinyExperiment().let {
                    it.copy(
                        pipeline =
                            PipelineSpec(
                                listOf(
                                    (it.pipeline.stages[0] as PretrainSpec).copy(
                                        budget = Tokens(10_000)
                                    )
                                )
                            )
                    )
                }
            val plan = Planner().compile(spec)
            val perStep = 8 * plan.data.meanExample
            plan.stages[0].steps!! shouldBeInRange
                (10_000 / perStep).toLong()..(10_000 / perStep).toLong() + 1
            plan.data.meanExample shouldBeGreaterThan 5.0
        }

        test("what only the planner can see is reported with every other error") {
            val spec =
                experiment("bad") {
                    data {
                        algorithmic {
                            task(TaskId("sorting"))
                            task(Task.Parity)
                        }
                    }
                    model("m") {
                        width = 64
                        heads = 3
                        contextLength = 8
                    }
                    pipeline {
                        val base = pretrain {
                            budget = 10.steps
                            lr = cosine(1e-3, warmup = 20.steps)
                        }
                        eval(base) { algorithmic(maxNewTokens = 1) }
                    }
                }
            val errors =
                shouldThrow<looplab.dsl.InvalidSpecException> { Planner().compile(spec) }
                    .errors
                    .map { it.toString() }
            errors shouldContainAll
                listOf(
                    "data.algorithmic.tasks[0].task: unknown task \"sorting\"; known tasks: addition, chain, compare, copy, dyck, mod_add, multiplication, parity, reverse, successor",
                    "model[m].heads: must divide width 64, was 3",
                )
            val fixed =
                spec.copy(
                    data =
                        DataSpec(algorithmic = AlgorithmicDataSpec(listOf(TaskSpec(Task.Parity)))),
                    models = spec.models.map { it.copy(heads = 4) },
                )
            val more =
                shouldThrow<looplab.dsl.InvalidSpecException> { Planner().compile(fixed) }
                    .errors
                    .map { it.toString() }
            more shouldContainAll
                listOf(
                    "model[m].contextLength: the longest training example has 18 tokens, more than the context length 8",
                    "pipeline.pretrain.lr.warmup.steps: must be shorter than the stage's 10 steps, was 20",
                )
            more.single { it.startsWith("pipeline.eval.algorithmic.maxNewTokens") } shouldContain
                "needs 2 tokens"
        }

        test("the printed plan names shapes, counts, FLOPs, memory and stages") {
            val text = PlanPrinter.render(Planner().compile(tinyExperiment()))
            listOf(
                    "baseline",
                    "shared_loop",
                    "1 x 2",
                    "fwd FLOPs/tok",
                    "est. training memory",
                    "20 steps x 8 sequences",
                    "evaluate pretrain",
                )
                .forEach { text shouldContain it }
        }
    })
