package looplab.pipelines.train

import looplab.dsl.Budget
import looplab.dsl.Steps
import looplab.dsl.Tokens

/**
 * When a stage ends: after [totalSteps] steps, or at a token budget. A token budget is planned in
 * steps from the mean example, so the steps may run over: up to twice the plan, then it stops.
 */
public class StageBudget(public val totalSteps: Long, private val tokens: Long? = null) {
    public fun done(step: Long, tokensRead: Long): Boolean =
        if (tokens != null) tokensRead >= tokens || step >= 2 * totalSteps else step >= totalSteps

    public companion object {
        /** The budget a stage declared, with the steps its plan computed. */
        public fun of(budget: Budget, plannedSteps: Long): StageBudget =
            when (budget) {
                is Steps -> StageBudget(plannedSteps)
                is Tokens -> StageBudget(plannedSteps, budget.tokens)
            }
    }
}
