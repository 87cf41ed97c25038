package looplab.examples;

import kotlin.Unit;
import kotlin.random.Random;
import looplab.curriculum.chat.ChatGenerator;
import looplab.curriculum.chat.ChatSplit;
import looplab.curriculum.chat.Conversation;
import looplab.dsl.ExperimentSpec;
import looplab.dsl.InvalidSpecException;
import looplab.dsl.ModelRef;
import looplab.dsl.PostTrainingKt;
import looplab.dsl.Steps;
import looplab.dsl.Task;
import looplab.dsl.Tokenizers;
import looplab.pipelines.Looplab;
import looplab.pipelines.plan.Plan;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A chat generator written in Java reaches the planner through the session, as a task of one's own does. */
class JavaChatGeneratorTest {
    /** "echo n" answered with n; out of distribution, n has two digits. */
    static final class Echo implements ChatGenerator {
        public String getId() { return "echo"; }
        public Conversation sample(Random random, ChatSplit split) {
            int n = split == ChatSplit.InDistribution ? random.nextInt(10) : 10 + random.nextInt(90);
            return Conversation.qa("echo " + n, Integer.toString(n));
        }
    }

    static ExperimentSpec spec() {
        return Looplab.experiment("java-chat", e -> {
            e.data(d -> { d.setTokenizer(Tokenizers.INSTANCE.getBytes()); d.algorithmic(Task.INSTANCE.getCopy()); return Unit.INSTANCE; });
            e.model("m", m -> { m.setWidth(32); m.setHeads(2); m.setLayers(1); m.setContextLength(64); return Unit.INSTANCE; });
            e.pipeline(p -> {
                ModelRef base = p.pretrain("pretrain", null, t -> { t.setBudget(new Steps(4)); return Unit.INSTANCE; });
                PostTrainingKt.sft(p, base, "sft", s -> {
                    s.setBudget(new Steps(30));
                    s.data(c -> { c.generator("echo", 1.0); return Unit.INSTANCE; });
                    return Unit.INSTANCE;
                });
                return Unit.INSTANCE;
            });
        });
    }

    @Test
    void aSessionsChatGeneratorResolvesAndItsAbsenceIsNamedAtItsPath() {
        Plan plan = Looplab.session().chatGenerators(new Echo()).plan(spec());
        assertEquals(2, plan.getStages().size());
        InvalidSpecException missing =
            assertThrows(InvalidSpecException.class, () -> Looplab.session().plan(spec()));
        assertTrue(
            missing.getMessage().contains("pipeline.sft.data.sources[0].id: no chat generator \"echo\" is registered"),
            missing.getMessage());
    }
}
