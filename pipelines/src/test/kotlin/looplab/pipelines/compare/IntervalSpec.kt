package looplab.pipelines.compare

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe

class IntervalSpec :
    FunSpec({
        test("mean ± t·s/√n against hand-worked examples") {
            // 1..5: mean 3, s = √2.5 = 1.58114, s/√5 = 0.70711, t(0.975, 4) = 2.77645 → ± 1.96324.
            val a = Interval.of(listOf(1.0, 2.0, 3.0, 4.0, 5.0))
            a.mean shouldBe (3.0 plusOrMinus 1e-12)
            a.half shouldBe (1.96324 plusOrMinus 1e-4)
            // 0.5, 0.7, 0.6: mean 0.6, s = 0.1, s/√3 = 0.057735, t(0.975, 2) = 4.30265 → ±
            // 0.248414, so [0.3516, 0.8484].
            val b = Interval.of(listOf(0.5, 0.7, 0.6))
            b.low shouldBe (0.351586 plusOrMinus 1e-5)
            b.high shouldBe (0.848414 plusOrMinus 1e-5)
            b.above(0.3) shouldBe true
            b.above(0.4) shouldBe false
            // Two equal values: no spread, a zero-width interval.
            Interval.of(listOf(0.25, 0.25)).half shouldBe 0.0
            // One value: no interval, and it never excludes anything.
            Interval.of(listOf(0.9)).half.isNaN() shouldBe true
            Interval.of(listOf(0.9)).above(0.0) shouldBe false
        }

        test("Student t quantiles: table and large degrees of freedom") {
            Interval.studentT975(1) shouldBe (12.7062 plusOrMinus 1e-4)
            Interval.studentT975(2) shouldBe (4.3027 plusOrMinus 1e-4)
            Interval.studentT975(30) shouldBe (2.0423 plusOrMinus 1e-4)
            Interval.studentT975(60) shouldBe (2.0003 plusOrMinus 2e-4)
            Interval.studentT975(120) shouldBe (1.9799 plusOrMinus 2e-4)
        }
    })
