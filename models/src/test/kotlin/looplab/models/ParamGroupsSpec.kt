package looplab.models

import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import looplab.dsl.AdamW
import looplab.dsl.Muon
import looplab.dsl.ParamRole
import looplab.models.optim.ParamGroups

/** The optimizer groups of every part and preset of the zoo, listed and checked. */
class ParamGroupsSpec :
    FunSpec({
        context(
            "every zoo model: decay on matrices only, Muon only on 2-D matrices, every parameter in exactly one group"
        ) {
            withData(zoo) { spec ->
                val refs = Models.build(spec, vocabSize = 23).parameters.all
                val muon = ParamGroups.of(refs, Muon(), mapOf(ParamRole.Adapter to 10.0))
                val adamw = ParamGroups.of(refs, AdamW())
                // The listing a reader checks by eye (printed into the test report).
                println("${spec.name}:\n" + muon.joinToString("\n") { "  $it" })
                for (groups in listOf(muon, adamw)) {
                    groups.flatMap { it.refs }.sortedBy { it.name } shouldBe
                        refs.sortedBy { it.name }
                    groups
                        .filter { it.decay }
                        .flatMap { it.refs }
                        .filter { it.role != ParamRole.Matrix }
                        .shouldBeEmpty()
                }
                val onMuon = muon.filter { it.rule == "muon" }.flatMap { it.refs }
                onMuon.filter { it.role != ParamRole.Matrix || it.shape.size != 2 }.shouldBeEmpty()
                // Norm gains are never decayed and never on Muon; embeddings and the head stay on
                // AdamW.
                refs.filter { it.name.endsWith("norm") }.forEach { it.role shouldBe ParamRole.Gain }
                refs
                    .filter { it.name == "embed" || it.name == "head" || it.name == "positions" }
                    .forEach { (it in onMuon) shouldBe false }
                refs.filter { it.name == "embed" }.single().role shouldBe ParamRole.Embedding
                refs.filter { "router" in it.name }.forEach { it.role shouldBe ParamRole.Router }
                // The adapter multiplier reaches exactly the adapters.
                muon
                    .filter { it.lrScale == 10.0 }
                    .flatMap { it.refs }
                    .map { it.role }
                    .distinct()
                    .forEach { it shouldBe ParamRole.Adapter }
            }
        }

        test("a role left undeclared is inferred from the name and shape") {
            ParamRole.infer("blocks.0.moe.router", listOf(8, 4)) shouldBe ParamRole.Router
            ParamRole.infer("adapters.loop0.a", listOf(8, 2)) shouldBe ParamRole.Adapter
            ParamRole.infer("head", listOf(8, 30)) shouldBe ParamRole.Head
            ParamRole.infer("value_embed", listOf(30, 8)) shouldBe ParamRole.Embedding
            ParamRole.infer("blocks.0.proj", listOf(8, 8)) shouldBe ParamRole.Matrix
            ParamRole.infer("blocks.0.scale", listOf(8)) shouldBe ParamRole.Control
        }
    })
