package looplab.examples;

import looplab.dsl.ExperimentSpec;
import looplab.pipelines.Looplab;
import looplab.pipelines.plan.Plan;
import looplab.pipelines.run.RunResult;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Java code can read an experiment, plan it and run it through the static facade. */
class JavaApiTest {
    @Test
    void javaReadsPlansAndRunsAnExperiment() throws Exception {
        Path json = Paths.get(getClass().getResource("/tiny-experiment.json").toURI());
        ExperimentSpec spec = Looplab.readJson(json);
        Plan plan = Looplab.plan(spec);
        assertEquals(2, plan.getModels().size());
        assertTrue(Looplab.describe(plan).contains("java-tiny"));

        RunResult result = Looplab.run(spec, Files.createTempDirectory("java-runs"));
        assertTrue(result.getSucceeded());
        assertTrue(Files.exists(result.getDir().resolve("results_algorithmic.json")));
    }
}
