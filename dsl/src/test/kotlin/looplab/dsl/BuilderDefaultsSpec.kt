package looplab.dsl

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.shouldBe

/**
 * A builder that is told nothing produces the spec's own defaults: the defaults are written once,
 * in the specs, and a builder that wrote its own copy (and let it drift) fails here.
 */
class BuilderDefaultsSpec :
    FunSpec({
        test(
            "an experiment, its data and its model told nothing are the specs' defaults (the model at Size.Nano's shape)"
        ) {
            val spec = experiment("x") { model("m") {} }
            spec shouldBe
                ExperimentSpec(
                    "x",
                    models =
                        listOf(
                            ModelSpec(
                                "m",
                                Size.Nano.width,
                                Size.Nano.heads,
                                Recursion(Size.Nano.layers, 1),
                                Size.Nano.contextLength,
                            )
                        ),
                )
            experiment("x") { data {} }.data shouldBe DataSpec()
            experiment("x") { data { curriculum {} } }.data.curriculum shouldBe CurriculumSpec()
            experiment("x") {
                    seed = 7
                    seeds = 3
                }
                .seeds shouldBe listOf(7L, 8L, 9L)
            sweep(spec) {
                grid {}
                slurm {}
            } shouldBe SweepSpec(spec)
        }

        test("every model part called without arguments is its spec's default") {
            val model =
                experiment("x") {
                        model("m") {
                            rope()
                            refineEmbeddings()
                            latent()
                            act()
                            memory()
                            auxHeads(1, 2)
                            auxHead(3)
                            valueEmbeddings()
                            recursive(blocks = 2, loops = 3) {
                                moe(experts = 4, topK = 2)
                                conv()
                                trm()
                                ssm()
                                adapters()
                                tdCarry()
                                gruCarry()
                                loopLoss()
                            }
                        }
                    }
                    .models
                    .single()
            model.positions shouldBe Rope()
            model.embedding shouldBe EmbeddingSpec(valueEmbeddings = true, refine = ConvRefine())
            model.latent shouldBe Latent()
            model.act shouldBe Act()
            model.memory shouldBe MemoryTokens()
            model.auxHeads shouldBe listOf(AuxHead(1), AuxHead(2), AuxHead(3))
            model.recursive shouldBe
                Recursion(
                    2,
                    3,
                    mixer = SsmMixer(),
                    conv = FfnConv(),
                    moe = Moe(4, 2),
                    trm = TrmCycles(),
                    adapters = Adapters(),
                    tdCarry = LowRankCarry(),
                    gruCarry = LowRankCarry(),
                    loopLoss = LoopLoss(),
                )
            experiment("x") { model("m") { recursive(1, 2) } }.models.single().recursive shouldBe
                Recursion(1, 2)
        }

        test(
            "an architecture preset starts from the defaults, forgetting every earlier setting and part"
        ) {
            val preset =
                experiment("x") { model("m") { preset(Architecture.OsrtV3) } }.models.single()
            val after =
                experiment("x") {
                        model("m") {
                            normEps = 1e-3
                            latent()
                            auxHead(1)
                            memory()
                            layers = 9
                            tiedEmbeddings = false
                            preset(Architecture.OsrtV3)
                        }
                    }
                    .models
                    .single()
            after shouldBe preset
            after.normEps shouldBe ModelSpec("m", 1, 1, Recursion(1, 1), 1).normEps
        }

        test(
            "an eval stage's suites called without arguments are their specs' defaults; naming none measures the spec's own"
        ) {
            val stages =
                experiment("x") {
                        pipeline {
                            val base = pretrain {
                                budget = 1.steps
                                checkpoint()
                            }
                            eval(base) {
                                needles()
                                loops()
                                perplexity()
                            }
                            eval(base) { algorithmic() }
                            eval(base)
                        }
                    }
                    .pipeline
                    .stages
            (stages[0] as PretrainSpec).checkpoint shouldBe CheckpointPolicy()
            stages[1] shouldBe
                EvalSpec(
                    "eval",
                    "pretrain",
                    algorithmic = null,
                    language = LanguageEvalSpec(),
                    needles = NeedleEvalSpec(),
                    loops = LoopEvalSpec(),
                )
            stages[2] shouldBe EvalSpec("eval-2", "pretrain")
            stages[3] shouldBe EvalSpec("eval-3", "pretrain")
        }

        test(
            "data, curriculum, schedules, corpora and tokenizers called without arguments are their specs' defaults"
        ) {
            val data =
                experiment("x") {
                        data {
                            algorithmic { task(Task.Parity) }
                            language()
                            curriculum {
                                phase(tokens = 10.k)
                                tasks = competence()
                            }
                        }
                    }
                    .data
            data.algorithmic shouldBe AlgorithmicDataSpec(listOf(TaskSpec(Task.Parity)))
            data.language shouldBe LanguageDataSpec()
            data.curriculum shouldBe
                CurriculumSpec(phases = listOf(PhaseSpec(10_000)), tasks = CompetenceSpec())
            experiment("x") { data { curriculum { tasks = dag(stage(Task.Copy)) } } }
                .data
                .curriculum!!
                .tasks shouldBe DagSpec(listOf(DagStageSpec(listOf(Task.Copy))))
            experiment("x") { data { algorithmic(Task.Copy) } }.data.algorithmic shouldBe
                AlgorithmicDataSpec(listOf(TaskSpec(Task.Copy)))

            cosine(1.0) shouldBe CosineLr(1.0)
            linear(1.0) shouldBe LinearLr(1.0)
            wsd(1.0) shouldBe WsdLr(1.0)
            constant(1.0) shouldBe ConstantLr(1.0)
            Corpus.text("a.txt") shouldBe TextFileCorpus("a.txt")
            Corpus.jsonl("a.jsonl") shouldBe JsonlCorpus("a.jsonl")
            Tokenizers.bpe(300) shouldBe TrainedBpeSpec(300)
        }

        test("every optimizer's weight decay is checked at its own path, Muon's AdamW included") {
            fun errors(optimizer: OptimizerSpec) =
                experiment("x") {
                        data { algorithmic(Task.Parity) }
                        model("m") {
                            width = 32
                            heads = 2
                            layers = 1
                            contextLength = 32
                        }
                        pipeline {
                            pretrain {
                                budget = 1.steps
                                this.optimizer = optimizer
                            }
                        }
                    }
                    .validate()
                    .map { it.toString() }
            errors(AdamW(weightDecay = -1.0)) shouldBe
                listOf("pipeline.pretrain.optimizer.weightDecay: must be ≥ 0, was -1.0")
            errors(Lion(weightDecay = -1.0)) shouldBe
                listOf("pipeline.pretrain.optimizer.weightDecay: must be ≥ 0, was -1.0")
            errors(Muon(weightDecay = -1.0, adamw = AdamW(weightDecay = -2.0))) shouldContainAll
                listOf(
                    "pipeline.pretrain.optimizer.weightDecay: must be ≥ 0, was -1.0",
                    "pipeline.pretrain.optimizer.adamw.weightDecay: must be ≥ 0, was -2.0",
                )
        }

        test(
            "a pretrain and an eval stage whose from names no earlier training stage get the same error"
        ) {
            val spec =
                experiment("x") {
                    data { algorithmic(Task.Parity) }
                    model("m") {
                        width = 32
                        heads = 2
                        layers = 1
                        contextLength = 32
                    }
                    pipeline { pretrain(id = "a") { budget = 1.steps } }
                }
            val stages =
                listOf(PretrainSpec("b", Steps(1), from = "nope"), EvalSpec("c", from = "nope"))
            spec.copy(pipeline = PipelineSpec(spec.pipeline.stages + stages)).validate().map {
                it.toString()
            } shouldBe
                listOf(
                    "pipeline.b.from: refers to \"nope\", which is not an earlier training stage (earlier: a)",
                    "pipeline.c.from: refers to \"nope\", which is not an earlier training stage (earlier: a, b)",
                )
        }
    })

class PostTrainingBuilderDefaultsSpec :
    FunSpec({
        test(
            "sft and grpo told only their budget are their specs' defaults, chat data and rewards included"
        ) {
            val stages =
                experiment("x") {
                        pipeline {
                            val base = pretrain { budget = 1.steps }
                            val tuned =
                                sft(from = base) {
                                    budget = 3.steps
                                    data {
                                        wordProblems()
                                        taskQuestions()
                                        jsonl("c.jsonl")
                                        generator("g")
                                    }
                                }
                            grpo(from = tuned) {
                                budget = 2.steps
                                reward()
                            }
                            sft(from = base) {
                                budget = 4.steps
                                data {}
                                adapters(rank = 8)
                            }
                        }
                    }
                    .pipeline
                    .stages
            stages[1] shouldBe
                SftSpec(
                    "sft",
                    "pretrain",
                    Steps(3),
                    data =
                        ChatDataSpec(
                            listOf(
                                WordProblems(),
                                TaskQuestions(),
                                ChatJsonl("c.jsonl"),
                                CustomChat("g"),
                            )
                        ),
                )
            stages[2] shouldBe GrpoSpec("grpo", "sft", Steps(2))
            stages[3] shouldBe SftSpec("sft-2", "pretrain", Steps(4), adapters = HraSpec(8))
        }

        test("a training stage without a budget is an error naming its path, not a sentinel") {
            fun message(block: PipelineBuilder.() -> Unit) =
                io.kotest.assertions.throwables
                    .shouldThrow<InvalidSpecException> { experiment("x") { pipeline(block) } }
                    .errors
                    .single()
                    .toString()
            message { pretrain {} } shouldBe
                "pipeline.pretrain.budget: is required (e.g. budget = 2_000.steps or 10.M.tokens)"
            message { sft(from = pretrain { budget = 1.steps }) {} } shouldBe
                "pipeline.sft.budget: is required (e.g. budget = 300.steps or 1.M.tokens)"
            message { grpo(from = pretrain { budget = 1.steps }) {} } shouldBe
                "pipeline.grpo.budget: is required (e.g. budget = 100.steps)"
        }
    })
