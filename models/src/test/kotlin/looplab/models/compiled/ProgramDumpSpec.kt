package looplab.models.compiled

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.util.zip.ZipFile
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import looplab.dsl.Precision
import looplab.models.Models
import looplab.models.TestBatch
import looplab.models.eager.ParameterStore
import looplab.models.testBackend
import looplab.models.tinySpec

/** A dumped program is the archive that ran, with the shapes a profiler needs to run it again. */
class ProgramDumpSpec :
    FunSpec({
        test("a training pass writes its program once, with every input's and parameter's shape") {
            val dir = Files.createTempDirectory("dump")
            val model = Models.build(tinySpec(blocks = 1, loops = 2), 19)
            val batch = TestBatch.random(19, batch = 2, length = 6)
            System.setProperty(ProgramDump.PROPERTY, dir.toString())
            try {
                CompiledExecutor(testBackend, Precision.Fp32).use { executor ->
                    ParameterStore(model.parameters, testBackend, seed = 1).use { store ->
                        repeat(2) {
                            executor.run(store, train = true) { ops, params ->
                                listOf(
                                    model
                                        .loss(
                                            ops,
                                            params,
                                            ops.tokens(batch.inputs, 2, 6),
                                            ops.tokens(batch.targets, 2, 6),
                                            ops.floats(batch.mask, listOf(2, 6)),
                                        )
                                        .loss
                                )
                            }
                        }
                    }
                }
            } finally {
                System.clearProperty(ProgramDump.PROPERTY)
            }
            Files.list(dir).map { it.fileName.toString() }.sorted().toList() shouldBe
                listOf("program-0.json", "program-0.pt")
            val meta =
                Json.parseToJsonElement(Files.readString(dir.resolve("program-0.json"))).jsonObject
            meta.getValue("params").jsonArray.size shouldBe model.parameters.all.size
            val inputs = meta.getValue("inputs").jsonArray.map { it.jsonObject }
            inputs.map { it.getValue("shape").jsonArray.map { d -> d.jsonPrimitive.int } } shouldBe
                listOf(listOf(2, 6), listOf(2, 6), listOf(2, 6))
            inputs[0].getValue("high").jsonPrimitive.int shouldBe batch.inputs.max() + 1
            ZipFile(dir.resolve("program-0.pt").toFile()).use { zip ->
                String(
                    zip.getInputStream(zip.getEntry("archive/code/__torch__.py")).readBytes()
                ) shouldContain "def forward"
            }
        }
    })
