package looplab.dsl

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain

class SweepGridSpec :
    FunSpec({
        test(
            "a grid reads axes whose values run until the next key, with seed ranges and ladder names"
        ) {
            SweepGrid.parse("variant=a,b,seed=1..3,size=nano,125m") shouldBe
                SweepGrid(listOf("a", "b"), listOf(1L, 2L, 3L), listOf(Size.Nano, Size.M125))
            SweepGrid.parse("seed=4") shouldBe SweepGrid(seeds = listOf(4L))
        }

        test("every mistake of a grid is named at once") {
            val e =
                shouldThrow<SweepGridException> {
                    SweepGrid.parse("a,variant=x,x,seed=3..1,size=huge,colour=red")
                }
            e.message shouldContain "\"a\" comes before any axis"
            e.message shouldContain "seed \"3..1\" is not a number or a range"
            e.message shouldContain "unknown size \"huge\""
            e.message shouldContain "unknown axis \"colour\""
            e.message shouldContain "variant x is listed twice"
        }

        test("the DSL builds the same grid, and a sweep round-trips through JSON") {
            val spec =
                sweep(
                    experiment("x") {
                        model("a") {
                            width = 64
                            heads = 2
                        }
                    }
                ) {
                    grid {
                        variants("a")
                        seeds(1..2)
                        sizes(Size.M50)
                    }
                    slurm {
                        partition = "gpu"
                        gpusPerTask = 1
                        parallel = 4
                    }
                }
            spec.grid shouldBe SweepGrid.parse("variant=a,seed=1..2,size=50m")
            spec.slurm shouldBe SlurmResources(partition = "gpu", gpusPerTask = 1, parallel = 4)
            SpecJson.json.decodeFromString(
                SweepSpec.serializer(),
                SpecJson.json.encodeToString(SweepSpec.serializer(), spec),
            ) shouldBe spec
        }
    })
