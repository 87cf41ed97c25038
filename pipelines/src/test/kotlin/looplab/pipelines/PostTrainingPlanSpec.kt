package looplab.pipelines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.string.shouldContain
import looplab.dsl.InvalidSpecException
import looplab.dsl.Task
import looplab.dsl.experiment
import looplab.dsl.grpo
import looplab.dsl.sft
import looplab.dsl.steps
import looplab.pipelines.plan.Planner

class PostTrainingPlanSpec : FunSpec({
    test("sft and grpo stages are validated, then refused by the planner with a clear message until their trainers exist") {
        val spec = experiment("post") {
            data { algorithmic(Task.Parity) }
            model("m") { width = 32; heads = 4; layers = 1; contextLength = 32 }
            pipeline {
                val base = pretrain { budget = 10.steps }
                val tuned = sft(from = base) { budget = 5.steps }
                grpo(from = tuned) { budget = 2.steps }
            }
        }
        val message = shouldThrow<InvalidSpecException> { Planner().compile(spec) }.message!!
        message shouldContain "pipeline.sft: sft stages are declared and validated, but this version of looplab cannot run them yet"
        message shouldContain "pipeline.grpo: grpo stages are declared and validated"
    }
})
