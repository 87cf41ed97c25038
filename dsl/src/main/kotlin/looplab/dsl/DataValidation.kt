package looplab.dsl

internal fun validateData(data: DataSpec, check: SpecChecker) {
    val algorithmic = data.algorithmic
    val language = data.language
    check.require("", algorithmic != null || language != null) {
        "declare the training data, e.g. algorithmic(Task.Parity) or language(Corpus.Austen)"
    }
    if (algorithmic != null) validateAlgorithmic(algorithmic, check.at("algorithmic"))
    if (language != null) validateLanguage(language, data.tokenizer, check)
    validateTokenizer(data.tokenizer, check.at("tokenizer"))
    data.curriculum?.let { validateCurriculum(it, data, check.at("curriculum")) }
}

private fun validateAlgorithmic(algorithmic: AlgorithmicDataSpec, check: SpecChecker) {
    check.require("tasks", algorithmic.tasks.isNotEmpty()) { "name at least one task" }
    algorithmic.tasks
        .groupBy { it.task }
        .filter { it.value.size > 1 }
        .keys
        .forEach { dup ->
            check.require("tasks", false) { "task \"$dup\" appears twice; merge its weights" }
        }
    algorithmic.tokens?.let { check.atLeast("tokens", it, 1) }
    algorithmic.examplesPerBatch?.let { check.atLeast("examplesPerBatch", it, 1) }
    algorithmic.tasks.forEachIndexed { i, task ->
        val at = check.at("tasks[$i]")
        at.require("weight", task.weight > 0.0 && task.weight.isFinite()) {
            "must be > 0, was ${task.weight}"
        }
        task.train?.let { range ->
            at.at("train").atLeast("min", range.min, 1)
            at.require("train", range.max >= range.min) {
                "is empty: max ${range.max} < min ${range.min}"
            }
        }
        task.ood?.forEachIndexed { j, length -> at.atLeast("ood[$j]", length, 1) }
    }
}

private fun validateLanguage(
    language: LanguageDataSpec,
    tokenizer: TokenizerSpec,
    check: SpecChecker,
) {
    val at = check.at("language")
    language.tokens?.let { at.atLeast("tokens", it, 1) }
    language.sequenceLength?.let { at.atLeast("sequenceLength", it, 2) }
    at.atLeast("validationEvery", language.validationEvery, 2)
    when (val corpus = language.corpus) {
        is TextFileCorpus -> {
            at.at("corpus").require("path", corpus.path.isNotBlank()) { "must name a file" }
            at.at("corpus").require("separator", corpus.separator.isNotEmpty()) {
                "must not be empty"
            }
        }
        is JsonlCorpus -> {
            at.at("corpus").require("path", corpus.path.isNotBlank()) { "must name a file" }
            at.at("corpus").require("field", corpus.field.isNotBlank()) { "must name a JSON field" }
        }
        AustenCorpus,
        SotuCorpus -> Unit
    }
    check.require("tokenizer", tokenizer != CharTokenizerSpec) {
        "the character tokenizer covers printable ASCII only and cannot encode a corpus; use Tokenizers.bytes, a BPE or a Hugging Face tokenizer"
    }
}

private fun validateTokenizer(tokenizer: TokenizerSpec, check: SpecChecker) {
    when (tokenizer) {
        is TrainedBpeSpec -> {
            check.require("vocabSize", tokenizer.vocabSize in 300..1_000_000) {
                "must be within 300..1000000 (256 bytes and the special tokens come first), was ${tokenizer.vocabSize}"
            }
            check.atLeast("trainBytes", tokenizer.trainBytes, 1_000)
        }
        is HuggingFaceTokenizerSpec ->
            tokenizer.path?.let {
                check.require("path", it.isNotBlank()) { "must name a tokenizer.json file" }
            }
        CharTokenizerSpec,
        ByteTokenizerSpec,
        is TiktokenSpec -> Unit
    }
}

private fun validateCurriculum(curriculum: CurriculumSpec, data: DataSpec, check: SpecChecker) {
    val taskNames = data.algorithmic?.tasks?.map { it.task.name }.orEmpty()
    curriculum.phases.forEachIndexed { i, phase ->
        val at = check.at("phases[$i]")
        at.atLeast("tokens", phase.tokens, 1)
        at.require("algorithmic", phase.algorithmic >= 0.0 && phase.algorithmic.isFinite()) {
            "must be ≥ 0, was ${phase.algorithmic}"
        }
        at.require("language", phase.language >= 0.0 && phase.language.isFinite()) {
            "must be ≥ 0, was ${phase.language}"
        }
        at.require("", phase.algorithmic + phase.language > 0.0) {
            "give the algorithmic or the language weight a positive value"
        }
        at.require("algorithmic", phase.algorithmic == 0.0 || data.algorithmic != null) {
            "draws algorithmic batches, but the data declares no algorithmic tasks"
        }
        at.require("language", phase.language == 0.0 || data.language != null) {
            "draws language batches, but the data declares no language corpus"
        }
        phase.taskWeights.forEach { (task, weight) ->
            at.require("taskWeights[$task]", task in taskNames) {
                "\"$task\" is not a task of the mixture (${taskNames.joinToString()})"
            }
            at.require("taskWeights[$task]", weight >= 0.0 && weight.isFinite()) {
                "must be ≥ 0, was $weight"
            }
        }
    }
    var previous = -1L
    curriculum.sequenceLength.forEachIndexed { i, step ->
        val at = check.at("sequenceLength[$i]")
        at.atLeast("length", step.length, 2)
        at.require("from", step.from.steps > previous) {
            "steps must increase, was ${step.from.steps} after $previous"
        }
        previous = step.from.steps
    }
    check.require("sequenceLength", curriculum.sequenceLength.isEmpty() || data.language != null) {
        "schedules language sequences, but the data declares no language corpus"
    }
    when (val tasks = curriculum.tasks) {
        null -> Unit
        is CompetenceSpec -> {
            val at = check.at("tasks")
            at.require("emaDecay", tasks.emaDecay in 0.0..<1.0) {
                "must be within [0, 1), was ${tasks.emaDecay}"
            }
            at.require("raiseAt", tasks.raiseAt in 0.0..1.0) {
                "must be within 0..1, was ${tasks.raiseAt}"
            }
            at.require("lowerAt", tasks.lowerAt in 0.0..1.0 && tasks.lowerAt < tasks.raiseAt) {
                "must be within 0..1 and below raiseAt ${tasks.raiseAt}, was ${tasks.lowerAt}"
            }
            at.at("cooldown").atLeast("steps", tasks.cooldown.steps, 0)
            at.atLeast("minEvals", tasks.minEvals, 1)
            at.require("jitter", tasks.jitter in 0.0..1.0) {
                "must be within 0..1, was ${tasks.jitter}"
            }
            check.require("tasks", data.algorithmic != null) {
                "a task curriculum needs algorithmic tasks"
            }
        }
        is DagSpec -> {
            val at = check.at("tasks")
            at.require("stages", tasks.stages.isNotEmpty()) { "declare at least one stage" }
            at.require("emaDecay", tasks.emaDecay in 0.0..<1.0) {
                "must be within [0, 1), was ${tasks.emaDecay}"
            }
            at.atLeast("patience", tasks.patience, 1)
            at.require("replay", tasks.replay in 0.0..1.0) {
                "must be within 0..1, was ${tasks.replay}"
            }
            val staged = tasks.stages.flatMap { it.tasks.map { t -> t.name } }
            tasks.stages.forEachIndexed { i, stage ->
                at.at("stages[$i]").require("tasks", stage.tasks.isNotEmpty()) {
                    "a stage needs at least one task"
                }
                at.at("stages[$i]").require("threshold", stage.threshold in 0.0..1.0) {
                    "must be within 0..1, was ${stage.threshold}"
                }
                stage.tasks
                    .filter { it.name !in taskNames }
                    .forEach { t ->
                        at.at("stages[$i]").require("tasks", false) {
                            "\"$t\" is not a task of the mixture (${taskNames.joinToString()})"
                        }
                    }
            }
            staged
                .groupBy { it }
                .filter { it.value.size > 1 }
                .keys
                .forEach { t -> at.require("stages", false) { "task \"$t\" is in two stages" } }
            taskNames
                .filter { it !in staged }
                .forEach { t ->
                    at.require("stages", false) { "task \"$t\" of the mixture is in no stage" }
                }
        }
    }
}

/** Token counts that cannot fit the training budget, and task curricula that would never decide. */
internal fun validateCurriculumBudget(spec: ExperimentSpec, check: SpecChecker) {
    val data = spec.data
    val phases = data.curriculum?.phases.orEmpty()
    val declared =
        if (phases.isNotEmpty()) phases.sumOf { it.tokens }
        else (data.algorithmic?.tokens ?: 0L) + (data.language?.tokens ?: 0L)
    val where = if (phases.isNotEmpty()) "data.curriculum.phases" else "data"
    val what =
        if (phases.isNotEmpty()) "the phases add up to"
        else "the algorithmic and language tokens add up to"
    spec.pipeline.stages.filterIsInstance<PretrainSpec>().forEach { stage ->
        val budget = stage.budget
        if (budget is Tokens && declared > budget.tokens) {
            check.require(where, false) {
                "$what $declared tokens, more than the ${budget.tokens} tokens of pipeline.${stage.id}.budget"
            }
        }
        if (data.curriculum?.tasks != null) {
            check.at("pipeline.${stage.id}").require("evalEvery", stage.evalEvery != null) {
                "a task curriculum decides at evaluations; set evalEvery (e.g. 100.steps)"
            }
        }
    }
}
