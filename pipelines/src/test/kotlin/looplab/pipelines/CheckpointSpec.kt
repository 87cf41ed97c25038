package looplab.pipelines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path
import looplab.dsl.AdamW
import looplab.dsl.SkipNonFinite
import looplab.dsl.StopOnNonFinite
import looplab.models.Models
import looplab.models.eager.EagerBackend
import looplab.models.eager.ParameterStore
import looplab.models.optim.AdamWOptimizer
import looplab.pipelines.run.Checkpoint
import looplab.pipelines.run.CheckpointException
import looplab.pipelines.run.NonFiniteStateException
import looplab.pipelines.run.RunOptions
import looplab.pipelines.run.Runner
import looplab.pipelines.train.NonFiniteGuard
import looplab.pipelines.train.TrainingDivergedException
import looplab.pipelines.train.TrainingState

class CheckpointSpec :
    FunSpec({
        val backend = EagerBackend()
        val spec = tinyExperiment().models.first()
        val model = Models.build(spec, 32)
        fun state(step: Long) =
            TrainingState("baseline", "pretrain", step, 100, step * 10, 1.0, complete = false)
        fun folders(dir: Path) =
            Files.list(dir).use { s -> s.toList() }.map { it.fileName.toString() }.sorted()

        test(
            "keeps the last k, newest first, and resume takes the newest that passes every check, saying which"
        ) {
            val dir = Files.createTempDirectory("ckpt").resolve("baseline").resolve("pretrain")
            val notes = mutableListOf<String>()
            ParameterStore(model.parameters, backend, seed = 1).use { store ->
                AdamWOptimizer(store, backend, AdamW()).use { optimizer ->
                    val checkpoint = Checkpoint(dir, "tiny", keep = 2, notes = { notes += it })
                    for (step in listOf(10L, 20L, 30L, 40L)) checkpoint.save(
                        state(step),
                        store,
                        optimizer,
                    )
                    folders(dir) shouldBe listOf("step-000000030", "step-000000040")
                    checkpoint.latest(store)!!.state.step shouldBe 40

                    // A damaged newest checkpoint is passed over, named, and the older one is
                    // taken.
                    val params = dir.resolve("step-000000040/params.bin")
                    Files.write(params, Files.readAllBytes(params).copyOf(50))
                    checkpoint.latest(store)!!.state.step shouldBe 30
                    notes.any {
                        it.contains("passed over") &&
                            it.contains("step-000000040") &&
                            it.contains("params.bin")
                    } shouldBe true
                    notes.any {
                        it.contains("using the checkpoint of baseline/pretrain") &&
                            it.contains("step-000000030")
                    } shouldBe true
                }
            }
        }

        test(
            "a crash inside a write leaves a .partial folder that resume ignores and the next save clears; the older checkpoints stay"
        ) {
            val dir =
                Files.createTempDirectory("ckpt-crash").resolve("baseline").resolve("pretrain")
            ParameterStore(model.parameters, backend, seed = 1).use { store ->
                AdamWOptimizer(store, backend, AdamW()).use { optimizer ->
                    val checkpoint = Checkpoint(dir, "tiny")
                    checkpoint.save(state(10), store, optimizer)
                    // What a SIGKILL between writing params.bin and the rename leaves behind.
                    val partial = Files.createDirectories(dir.resolve("step-000000020.partial"))
                    Files.write(partial.resolve("params.bin"), ByteArray(10))
                    checkpoint.latest(store)!!.state.step shouldBe 10
                    checkpoint.save(state(20), store, optimizer)
                    folders(dir) shouldBe listOf("step-000000010", "step-000000020")
                }
            }
        }

        test("no checkpoint is written from NaN weights, and the last good one stays") {
            val dir = Files.createTempDirectory("ckpt-nan").resolve("baseline").resolve("pretrain")
            ParameterStore(model.parameters, backend, seed = 1).use { store ->
                AdamWOptimizer(store, backend, AdamW()).use { optimizer ->
                    val checkpoint = Checkpoint(dir, "tiny")
                    checkpoint.save(state(10), store, optimizer)
                    val poisoned =
                        store.snapshot().mapValues { (_, v) ->
                            v.copyOf().also { it[0] = Float.NaN }
                        }
                    store.load(poisoned)
                    val error =
                        shouldThrow<NonFiniteStateException> {
                            checkpoint.save(state(20), store, optimizer)
                        }
                    error.message shouldContain "no checkpoint was written"
                    folders(dir) shouldBe listOf("step-000000010")
                }
            }
        }

        test("no usable checkpoint is an error that lists each one, never a silent restart") {
            val dir = Files.createTempDirectory("ckpt-none").resolve("baseline").resolve("pretrain")
            ParameterStore(model.parameters, backend, seed = 1).use { store ->
                AdamWOptimizer(store, backend, AdamW()).use { optimizer ->
                    val checkpoint = Checkpoint(dir, "tiny")
                    checkpoint.save(state(10), store, optimizer)
                    checkpoint.save(state(20), store, optimizer)
                    folders(dir).forEach { Files.delete(dir.resolve(it).resolve("optimizer.bin")) }
                    val error = shouldThrow<CheckpointException> { checkpoint.latest(store) }
                    error.message shouldContain "step-000000010: optimizer.bin is missing"
                    error.message shouldContain "step-000000020: optimizer.bin is missing"
                    folders(dir) shouldBe
                        listOf("step-000000010", "step-000000020") // nothing deleted
                }
            }
        }

        test(
            "the guard stops at once by default, or skips a bounded number of steps, lowering the learning rate each time"
        ) {
            val stop = NonFiniteGuard(StopOnNonFinite, "m (pretrain)")
            stop.check(0, 1.0, 2.0) { null } shouldBe true
            shouldThrow<TrainingDivergedException> { stop.check(4, Double.NaN, null) { null } }
                .message shouldContain "No checkpoint had been written yet"
            shouldThrow<TrainingDivergedException> {
                    stop.check(4, 1.0, Double.POSITIVE_INFINITY) { 3 }
                }
                .message shouldContain "The last checkpoint (step 3) is kept"

            val skip = NonFiniteGuard(SkipNonFinite(maxSkips = 2, lrFactor = 0.5), "m (pretrain)")
            skip.check(1, Double.NaN, null) { null } shouldBe false
            skip.check(2, 1.0, Double.NaN) { null } shouldBe false
            skip.lrScale shouldBe 0.25
            skip.skipped shouldBe 2
            shouldThrow<TrainingDivergedException> { skip.check(3, Double.NaN, null) { null } }
                .message shouldContain "after 2 skipped steps"
            shouldThrow<TrainingDivergedException> {
                    NonFiniteGuard(StopOnNonFinite, "m").checkValidation(10, Double.NaN) { 5 }
                }
                .message shouldContain "held-out loss is NaN"
        }

        test(
            "a diverging variant is recorded as failed and leaves no checkpoint with non-finite values"
        ) {
            val experiment =
                tinyExperiment(steps = 20, evalEvery = 5).let { e ->
                    e.copy(
                        pipeline =
                            e.pipeline.copy(
                                stages =
                                    e.pipeline.stages.map { s ->
                                        if (s is looplab.dsl.PretrainSpec)
                                            s.copy(lr = looplab.dsl.ConstantLr(1e6))
                                        else s
                                    }
                            )
                    )
                }
            val result =
                Runner().run(experiment, RunOptions(runsDir = Files.createTempDirectory("diverge")))
            result.succeeded shouldBe false
            result.summary.status shouldBe "failed"
            result.summary.variants.map { it.status } shouldContain "failed"
            result.summary.variants.first { it.status == "failed" }.error!! shouldContain "diverged"
            // Every checkpoint left behind loads (which checks each value is finite).
            for (variant in listOf("baseline", "shared_loop")) {
                val dir = result.dir.resolve("checkpoints/$variant/pretrain")
                if (Files.isDirectory(dir) && Files.list(dir).use { it.count() } > 0)
                    Checkpoint(dir, "tiny").latest() shouldNotBe null
            }
        }
    })
