package looplab.examples;

import kotlin.Unit;
import kotlin.random.Random;
import looplab.curriculum.tasks.AlgorithmicTask;
import looplab.curriculum.tasks.Example;
import looplab.dsl.CosineLr;
import looplab.dsl.ExperimentSpec;
import looplab.dsl.LengthRange;
import looplab.dsl.ModelRef;
import looplab.dsl.Steps;
import looplab.dsl.Task;
import looplab.dsl.TaskId;
import looplab.pipelines.Looplab;
import looplab.pipelines.plan.Plan;
import looplab.pipelines.run.RunResult;
import looplab.pipelines.metrics.EvalMetrics;
import looplab.pipelines.train.StopRequest;
import looplab.pipelines.metrics.TrainMetrics;
import looplab.pipelines.metrics.TrainingListener;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a Java user needs: build a spec, override it, plan, run quietly with a listener and a task of their own, stop, resume. */
class JavaSessionTest {
    /** A task written in Java: repeat a string of digits twice. */
    static final class Twice implements AlgorithmicTask {
        public TaskId getId() { return new TaskId("twice"); }
        public String getLengthUnit() { return "digits"; }
        public LengthRange getTrainLengths() { return new LengthRange(1, 3); }
        public List<Integer> getOodLengths() { return List.of(5); }
        public Example sample(Random random, int length) {
            StringBuilder digits = new StringBuilder();
            for (int i = 0; i < length; i++) digits.append(random.nextInt(10));
            return new Example("twice " + digits + "=", digits.toString() + digits);
        }
        public int maxChars(int length) { return 7 + 3 * length; }
        public int maxAnswerChars(int length) { return 2 * length; }
    }

    static ExperimentSpec spec() {
        return Looplab.experiment("java-session", e -> {
            e.setSeed(11);
            e.data(d -> { d.algorithmic(Task.INSTANCE.getParity(), new TaskId("twice")); return Unit.INSTANCE; });
            e.model("small", m -> { m.setWidth(32); m.setHeads(2); m.setLayers(1); m.setContextLength(32); m.setFfnHidden(48); return Unit.INSTANCE; });
            e.pipeline(p -> {
                ModelRef base = p.pretrain("pretrain", null, t -> {
                    t.setBudget(new Steps(12)); t.setBatchSize(4); t.setLr(new CosineLr(3e-3, new Steps(2), 0.1));
                    t.setEvalEvery(new Steps(6)); t.setEvalSamples(2); t.setLogEvery(new Steps(1));
                    return Unit.INSTANCE;
                });
                p.eval(base, "eval", v -> { v.algorithmic(2, 12); return Unit.INSTANCE; });
                return Unit.INSTANCE;
            });
        });
    }

    @Test
    void javaBuildsPlansRunsStopsAndResumes() throws Exception {
        ExperimentSpec spec = Looplab.with(spec(), "pipeline.pretrain.budget=14.steps");
        Plan plan = Looplab.session().tasks(new Twice()).plan(spec);
        assertEquals(14L, plan.getStages().get(0).getSteps());
        assertTrue(Looplab.describe(plan).contains("twice"));

        // A listener that records progress and asks the run to stop after step 8.
        StopRequest stop = new StopRequest();
        List<Long> steps = new ArrayList<>();
        List<String> evaluations = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override public void stepped(TrainMetrics metrics, boolean logged) {
                steps.add(metrics.getStep());
                if (metrics.getStep() == 8L) stop.request("test");
            }
            @Override public void evaluated(EvalMetrics metrics) { evaluations.add(metrics.getStage() + "@" + metrics.getStep()); }
        };
        Path runs = Files.createTempDirectory("java-session");
        RunResult stopped = Looplab.session().runsDir(runs).quiet().tasks(new Twice()).listener(listener).stopRequest(stop).run(spec);
        assertTrue(stopped.getInterrupted());
        assertFalse(stopped.getSucceeded());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), steps);
        assertEquals(List.of("pretrain@6"), evaluations);

        RunResult resumed = Looplab.session().quiet().tasks(new Twice()).listener(listener).resume(stopped.getDir());
        assertTrue(resumed.getSucceeded());
        assertEquals(stopped.getDir(), resumed.getDir());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L), steps);
        assertEquals(List.of("pretrain@6", "pretrain@12", "pretrain@14", "eval@0"), evaluations);
        assertTrue(Files.exists(resumed.getDir().resolve("results_algorithmic.json")));
    }
}
