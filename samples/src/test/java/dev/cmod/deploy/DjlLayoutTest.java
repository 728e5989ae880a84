package dev.cmod.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import dev.cmod.cli.Main;
import dev.cmod.cli.Toolchain;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code cmod package --format djl}: the model folder loads in DJL — the library DJL Serving serves
 * with — through its model zoo's loader from the folder alone, on the engine its {@code
 * serving.properties} names, and answers a request with the numbers {@code cmod run} gives for the
 * same inputs (DJL runs in a child JVM: see {@link DjlPredict}). DJL Serving itself ({@code
 * ai.djl.serving:serving}, and its workload manager {@code wlm}) is not in the package registry
 * this project builds from, so the server is not started; its {@code serving.properties} keys are
 * checked against DJL Serving's documented model configuration instead.
 */
class DjlLayoutTest {
  @TempDir Path dir;

  /** The per-model keys DJL Serving's model configuration documents for serving.properties. */
  private static final Set<String> DJL_MODEL_KEYS =
      Set.of(
          "engine",
          "load_on_devices",
          "translatorFactory",
          "job_queue_size",
          "batch_size",
          "max_batch_delay",
          "max_idle_time",
          "log_request_metric",
          "metrics_aggregation",
          "minWorkers",
          "maxWorkers");

  static Object[] samples() throws Exception {
    return TritonLayoutTest.samples().toArray();
  }

  @ParameterizedTest
  @MethodSource("samples")
  void loadsInDjlAndAnswersWithCmodRunsNumbers(Path sample) throws Exception {
    Path out = dir.resolve("djl");
    assertEquals(
        0, Main.execute("package", sample.toString(), "--format", "djl", "-o", out.toString()));
    E2E.Built b = E2E.compileFile(sample, E2E.opts(2));
    String name = b.result().model();
    Path folder = out.resolve(name);

    Properties props = new Properties();
    try (Reader r = Files.newBufferedReader(folder.resolve("serving.properties"))) {
      props.load(r);
    }
    assertTrue(DJL_MODEL_KEYS.containsAll(props.stringPropertyNames()), props.toString());
    assertTrue(Engine.getAllEngines().contains(props.getProperty("engine")), props.toString());
    assertTrue(Integer.parseInt(props.getProperty("batch_size")) >= 1);
    assertTrue(Integer.parseInt(props.getProperty("max_batch_delay")) >= 0);

    // the same inputs for cmod run (as .npy files) and for DJL
    Map<String, Tensor> in = Toolchain.randomInputs(b.graph(), b.result().facts(), sizes(b), 7);
    List<String> args = new ArrayList<>(List.of("run", sample.toString()));
    for (Map.Entry<String, Tensor> e : in.entrySet()) {
      Path f = dir.resolve("in-" + e.getKey() + ".npy");
      Npy.write(f, e.getValue());
      args.add("--input");
      args.add(e.getKey() + "=" + f);
    }
    Path runOut = dir.resolve("run");
    args.add("--output-dir");
    args.add(runOut.toString());
    assertEquals(0, Main.execute(args.toArray(String[]::new)));

    List<String> child =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true",
                "-cp",
                System.getProperty("java.class.path"),
                DjlPredict.class.getName(),
                folder.toString(),
                dir.toString()));
    for (String n : in.keySet()) {
      child.add(n + "=" + dir.resolve("in-" + n + ".npy"));
    }
    Path log = dir.resolve("djl.log");
    Process p =
        new ProcessBuilder(child).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean done = p.waitFor(120, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly().waitFor();
    }
    assertTrue(done, "DJL answered within two minutes");
    assertEquals(0, p.exitValue(), Files.readString(log));
    Properties seen = new Properties();
    try (Reader r = Files.newBufferedReader(dir.resolve("seen.properties"))) {
      seen.load(r);
    }
    assertEquals(props, seen, "DJL's loader read the layout's serving.properties and its engine");

    List<String> outputs = List.copyOf(b.graph().outputs().keySet());
    for (int i = 0; i < outputs.size(); i++) {
      Tensor want = Npy.read(runOut.resolve(outputs.get(i) + ".npy"));
      Tensor got = Npy.read(dir.resolve("out-" + i + ".npy"));
      E2E.assertClose(want, got, 1e-5, 1e-6, sample + " output " + outputs.get(i));
    }
    assertTrue(Files.notExists(dir.resolve("out-" + outputs.size() + ".npy")), "no extra output");
  }

  private static Map<String, Long> sizes(E2E.Built b) {
    Map<String, Long> s = new java.util.LinkedHashMap<>();
    for (String sym : b.graph().symbols().keySet()) {
      s.put(sym, sym.equals("batch") ? 3L : 5L);
    }
    return s;
  }
}
