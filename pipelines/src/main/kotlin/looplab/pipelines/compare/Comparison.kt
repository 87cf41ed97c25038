package looplab.pipelines.compare

import looplab.pipelines.eval.Suite

/** One row of a comparison: a variant at an evaluation stage, over the seeds that measured it. */
public data class Row(
    val variant: String,
    val stage: String,
    val seeds: List<Long>,
    val stats: Map<String, Interval>,
)

/** One win criterion for one variant: [met] is null when it could not be judged (not measured). */
public data class Criterion(val name: String, val met: Boolean?, val evidence: String)

/** A variant's verdict on seed 001's four win criteria against the baseline. */
public data class Verdict(val variant: String, val stage: String, val criteria: List<Criterion>) {
    val wins: Boolean
        get() = criteria.all { it.met != false } && criteria.any { it.met == true }

    val summary: String
        get() =
            when {
                criteria.any { it.met == false } ->
                    "does not win (not met: ${criteria.filter { it.met == false }.joinToString { it.name }})"
                criteria.any { it.met == null } ->
                    "wins on what was measured (not judged: ${criteria.filter { it.met == null }.joinToString { it.name }})"
                else -> "wins"
            }
}

/**
 * Compares the variants of one or more runs: every metric as a mean with its 95% confidence
 * interval over seeds (Student t), each variant's paired differences from the baseline (same seed,
 * same evaluation problems), and seed 001's win criteria, where a difference counts only when its
 * interval excludes zero.
 */
public class Comparison
private constructor(
    public val rows: List<Row>,
    public val baseline: String,
    public val verdicts: List<Verdict>,
) {
    public companion object {
        /**
         * Metric names: `iid`, `iid/<task>`, `ood`, `ood/<task>/<length>`, `needle/<length>`,
         * `perplexity`, `bpb`, `trainSeconds`.
         */
        @JvmStatic
        public fun of(records: List<SeedRecord>, baseline: String? = null): Comparison {
            require(records.isNotEmpty()) { "nothing to compare" }
            val perSeed =
                LinkedHashMap<Pair<String, String>, MutableMap<Long, Map<String, Double>>>()
            for (record in records) {
                for ((key, values) in measures(record)) {
                    val seeds = perSeed.getOrPut(key) { LinkedHashMap() }
                    if (seeds.containsKey(record.seed))
                        throw RunRecordException(
                            "${record.dir}: seed ${record.seed} of ${key.first} (${key.second}) appears twice among the runs compared"
                        )
                    seeds[record.seed] = values
                }
            }
            if (perSeed.isEmpty())
                throw RunRecordException(
                    "the runs have no evaluation results to compare (no eval stage finished)"
                )
            val variants = perSeed.keys.map { it.first }.distinct()
            val base = baseline ?: variants.firstOrNull { it == "baseline" } ?: variants.first()
            if (base !in variants)
                throw RunRecordException(
                    "--baseline $base: no such variant (there are ${variants.joinToString()})"
                )
            val rows =
                perSeed
                    .map { (key, seeds) ->
                        val names = seeds.values.flatMap { it.keys }.distinct()
                        val stats =
                            names
                                .associateWith { name ->
                                    Interval.of(seeds.values.mapNotNull { it[name] })
                                }
                                .toMutableMap()
                        perSeed[base to key.second]?.let { baseSeeds ->
                            ratios(seeds, baseSeeds, "trainSeconds")?.let {
                                stats["timeRatio"] = it
                            }
                            ratios(seeds, baseSeeds, "perplexity")?.let {
                                stats["perplexityRatio"] = it
                            }
                        }
                        Row(key.first, key.second, seeds.keys.sorted(), stats)
                    }
                    .sortedBy {
                        if (it.variant == base) 0 else 1
                    } // the baseline first, the others as the runs list them
            val verdicts =
                perSeed.keys
                    .filter { it.first != base }
                    .mapNotNull { key ->
                        val baseSeeds = perSeed[base to key.second] ?: return@mapNotNull null
                        Verdict(key.first, key.second, criteria(perSeed.getValue(key), baseSeeds))
                    }
            return Comparison(rows, base, verdicts)
        }

        /** Every (variant, stage)'s metrics in one seed's run. */
        private fun measures(record: SeedRecord): Map<Pair<String, String>, Map<String, Double>> {
            val out = LinkedHashMap<Pair<String, String>, MutableMap<String, Double>>()
            fun at(variant: String, stage: String) =
                out.getOrPut(variant to stage) { LinkedHashMap() }
            record.suites[Suite.Algorithmic.id]?.results?.forEach { e ->
                val m = at(e.variant, e.stage)
                val cells = e.cells.orEmpty()
                val iid =
                    cells
                        .filter { it.split == "iid" }
                        .groupBy { it.task }
                        .mapValues { (_, c) -> c.map { it.accuracy }.average() }
                val ood =
                    cells
                        .filter { it.split == "ood" }
                        .groupBy { it.task }
                        .mapValues { (_, c) -> c.map { it.accuracy }.average() }
                iid.forEach { (task, acc) -> m["iid/$task"] = acc }
                if (iid.isNotEmpty()) m["iid"] = iid.values.average()
                cells
                    .filter { it.split == "ood" }
                    .forEach { m["ood/${it.task}/${it.length}"] = it.accuracy }
                if (ood.isNotEmpty()) m["ood"] = ood.values.average()
            }
            // Chat answers: format and exact answer rates, in distribution and out of it.
            record.suites[Suite.Chat.id]?.results?.forEach { e ->
                val m = at(e.variant, e.stage)
                e.cells.orEmpty().forEach { m["chat/${it.split}/${it.task}"] = it.accuracy }
            }
            record.suites[Suite.LongCtx.id]?.results?.forEach { e ->
                e.needles?.byLength()?.forEach { (length, acc) ->
                    at(e.variant, e.stage)["needle/$length"] = acc
                }
            }
            record.suites[Suite.Lm.id]?.results?.forEach { e ->
                e.language?.let {
                    at(e.variant, e.stage).apply {
                        put("perplexity", it.perplexity)
                        put("bpb", it.bitsPerByte)
                    }
                }
            }
            // Without an lm suite, the eval stage's own language score (summary.json) stands in.
            for (variant in record.summary.variants) {
                for ((stage, summary) in variant.stages) {
                    val m = out[variant.name to stage] ?: continue
                    if ("perplexity" !in m) summary.perplexity?.let { m["perplexity"] = it }
                    if ("bpb" !in m) summary.bitsPerByte?.let { m["bpb"] = it }
                }
                val train =
                    variant.stages.values
                        .filter { it.kind == "pretrain" }
                        .mapNotNull { it.trainSeconds }
                if (train.isNotEmpty())
                    out.filterKeys { it.first == variant.name }
                        .values
                        .forEach { it["trainSeconds"] = train.sum() }
            }
            return out
        }

        private fun paired(
            variant: Map<Long, Map<String, Double>>,
            base: Map<Long, Map<String, Double>>,
            metric: String,
            combine: (Double, Double) -> Double,
        ): Interval? {
            val values =
                variant.keys.intersect(base.keys).mapNotNull { seed ->
                    val v = variant.getValue(seed)[metric] ?: return@mapNotNull null
                    val b = base.getValue(seed)[metric] ?: return@mapNotNull null
                    combine(v, b)
                }
            return if (values.isEmpty()) null else Interval.of(values)
        }

        private fun ratios(
            variant: Map<Long, Map<String, Double>>,
            base: Map<Long, Map<String, Double>>,
            metric: String,
        ) = paired(variant, base, metric) { v, b -> v / b }

        private fun criteria(
            variant: Map<Long, Map<String, Double>>,
            base: Map<Long, Map<String, Double>>,
        ): List<Criterion> {
            val accuracy = paired(variant, base, "iid") { v, b -> v - b }
            val ood = paired(variant, base, "ood") { v, b -> v - b }
            val time = ratios(variant, base, "trainSeconds")
            val perplexity = ratios(variant, base, "perplexity")
            return listOf(
                accuracy?.let {
                    Criterion(
                        ACCURACY,
                        it.mean >= 0.05 && it.above(0.0),
                        "IID accuracy ${points(it)} vs baseline",
                    )
                } ?: Criterion(ACCURACY, null, "not measured"),
                ood?.let { Criterion(OOD, it.above(0.0), "OOD accuracy ${points(it)} vs baseline") }
                    ?: Criterion(OOD, null, "not measured"),
                time?.let {
                    Criterion(
                        TIME,
                        if (it.n >= 2) it.high <= 2.0 else it.mean <= 2.0,
                        "train time ${times(it)} the baseline's",
                    )
                } ?: Criterion(TIME, null, "not measured"),
                perplexity?.let {
                    Criterion(
                        PERPLEXITY,
                        if (it.n >= 2) it.high <= COLLAPSE else it.mean <= COLLAPSE,
                        "perplexity ${times(it)} the baseline's (collapse: > ${COLLAPSE}×)",
                    )
                } ?: Criterion(PERPLEXITY, null, "not measured (no language data)"),
            )
        }

        private fun points(i: Interval): String =
            "%+.1f points [%s]".format(java.util.Locale.ROOT, 100 * i.mean, bounds(i, 100.0))

        private fun times(i: Interval): String =
            "%.2f× [%s]".format(java.util.Locale.ROOT, i.mean, bounds(i, 1.0))

        private fun bounds(i: Interval, scale: Double): String =
            if (i.n < 2) "no interval: 1 seed"
            else
                "%.2f, %.2f; %d seeds"
                    .format(java.util.Locale.ROOT, scale * i.low, scale * i.high, i.n)

        public const val ACCURACY: String = "≥5 points algorithmic accuracy"
        public const val OOD: String = "better OOD"
        public const val TIME: String = "≤2× training time"
        public const val PERPLEXITY: String = "no perplexity collapse"

        /** Perplexity more than 25% above the baseline's counts as a collapse. */
        public const val COLLAPSE: Double = 1.25
    }
}
