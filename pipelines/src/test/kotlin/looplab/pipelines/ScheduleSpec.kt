package looplab.pipelines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import kotlin.math.sqrt
import looplab.dsl.DecayShape
import looplab.dsl.Steps
import looplab.dsl.constant
import looplab.dsl.cosine
import looplab.dsl.linear
import looplab.dsl.wsd
import looplab.pipelines.train.rateAt

class ScheduleSpec :
    FunSpec({
        test("WSD warms up, holds the peak, then decays over the last fifth in the chosen shape") {
            for (shape in DecayShape.entries) {
                val s =
                    wsd(1.0, warmup = Steps(10), decayFraction = 0.2, shape = shape, floor = 0.1)
                s.rateAt(0, 100) shouldBe (0.1 plusOrMinus 1e-12)
                s.rateAt(9, 100) shouldBe (1.0 plusOrMinus 1e-12)
                s.rateAt(50, 100) shouldBe (1.0 plusOrMinus 1e-12)
                s.rateAt(79, 100) shouldBe (1.0 plusOrMinus 1e-12)
                s.rateAt(80, 100) shouldBe (1.0 plusOrMinus 1e-12)
                s.rateAt(100, 100) shouldBe (0.1 plusOrMinus 1e-12)
                val halfway =
                    when (shape) {
                        DecayShape.Linear,
                        DecayShape.Cosine -> 0.5
                        DecayShape.Sqrt -> 1 - sqrt(0.5)
                    }
                s.rateAt(90, 100) shouldBe ((0.1 + 0.9 * halfway) plusOrMinus 1e-12)
            }
        }

        test("linear falls in a straight line to its floor; constant and cosine are unchanged") {
            val l = linear(2.0, warmup = Steps(0), floor = 0.0)
            l.rateAt(0, 10) shouldBe (2.0 plusOrMinus 1e-12)
            l.rateAt(5, 10) shouldBe (1.0 plusOrMinus 1e-12)
            constant(3.0).rateAt(7, 10) shouldBe 3.0
            cosine(1.0, floor = 0.0).rateAt(5, 10) shouldBe (0.5 plusOrMinus 1e-12)
        }
    })
