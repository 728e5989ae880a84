import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Sparse routing against dense evaluation, timed in one process on ONNX Runtime: the program
 * scripts/bench/moe_top2_of_8.cmod (top-2 of 8 Mlp(256, 1024) experts) compiled at -O2 (sparse
 * dispatch) and at -O2 with {@code --disable-pass=sparse-routing} (the dense form: every expert on
 * every token), same seed and so the same weights; with {@code /usr/bin/python3} and torch, also
 * the same model written in PyTorch with the usual sparse dispatch and exported with
 * torch.onnx.export (scripts/bench/moe_torch_export.py, reading the weights cmod exports); and
 * the work floor, two experts on every token (scripts/bench/moe_floor.cmod), and the dispatch floor,
 * every expert on a quarter of the tokens (scripts/bench/moe_dispatch_floor.cmod: all 8 experts'
 * weights are read, as sparse dispatch must). The
 * contenders run interleaved (one run of each per round) at each thread count; the table gives
 * medians, p90s and minima and their ratios to dense (on a busy machine the minimum is the steadier
 * figure); outputs are compared with dense first.
 *
 * <p>Usage: {@code java -cp "cli/target/cmod-cli-0.1.0-SNAPSHOT.jar:cli/target/lib/*"
 * scripts/bench/SparseRoutingBench.java [SEQ] [ROUNDS] [FILE D]} (defaults 128, 200 and the program
 * above), from the repository root after {@code mvn -o package -Dmaven.test.skip=true -pl cli -am};
 * with FILE (a routed program with input x: f32[seq, D] and output y) only sparse and dense run.
 */
public class SparseRoutingBench {
  public static void main(String[] args) throws Exception {
    int seq = args.length > 0 ? Integer.parseInt(args[0]) : 128;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    // another program: its input x: f32[seq, D] (no floor or PyTorch contender then)
    Path src = Path.of(args.length > 2 ? args[2] : "scripts/bench/moe_top2_of_8.cmod");
    int d = args.length > 3 ? Integer.parseInt(args[3]) : 256;
    boolean own = args.length <= 2;
    Path tmp = Files.createTempDirectory("sparse-bench");
    Map<String, Path> models = new LinkedHashMap<>();
    models.put("dense (-O2, sparse-routing disabled)", tmp.resolve("dense.onnx"));
    models.put("cmod -O2 (sparse dispatch)", tmp.resolve("sparse.onnx"));
    cmod("compile", src.toString(), "-O2", "--disable-pass=sparse-routing", "-o",
        models.get("dense (-O2, sparse-routing disabled)").toString());
    cmod("compile", src.toString(), "-O2", "-o",
        models.get("cmod -O2 (sparse dispatch)").toString());
    if (own) {
      contenders(models, src, tmp);
    }
    run(models, seq, d, rounds);
  }

  private static void contenders(Map<String, Path> models, Path src, Path tmp) throws Exception {
    models.put("floor: 2 experts on every token (moe_floor.cmod)", tmp.resolve("floor.onnx"));
    cmod("compile", "scripts/bench/moe_floor.cmod", "-O2", "-o",
        models.get("floor: 2 experts on every token (moe_floor.cmod)").toString());
    String spread = "dispatch floor: 8 experts on a quarter of the tokens each (moe_dispatch_floor.cmod)";
    models.put(spread, tmp.resolve("spread.onnx"));
    cmod("compile", "scripts/bench/moe_dispatch_floor.cmod", "-O2", "-o", models.get(spread).toString());
    Path weights = tmp.resolve("w.safetensors");
    cmod("export-weights", src.toString(), "-o", weights.toString());
    Path torch = tmp.resolve("torch.onnx");
    Process p =
        new ProcessBuilder(
                "/usr/bin/python3", "scripts/bench/moe_torch_export.py", weights.toString(),
                torch.toString())
            .redirectErrorStream(true)
            .start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() == 0 && Files.exists(torch)) {
      models.put("PyTorch sparse dispatch, torch.onnx.export", torch);
    } else {
      System.out.println("(no PyTorch contender: " + log.strip() + ")");
    }
  }

  private static void run(Map<String, Path> models, int seq, int d, int rounds) throws Exception {

    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[] x = new float[seq * d];
    Random r = new Random(1);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    long[] shape = {1, seq, d};
    System.out.printf(Locale.ROOT, "batch 1, seq %d, d %d, %d interleaved rounds%n", seq, d, rounds);
    System.out.println("| threads | contender | p50 | p90 | min | p50 / dense | min / dense |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (int threads : new int[] {1, 2}) {
      List<String> names = new ArrayList<>(models.keySet());
      List<OrtSession> sessions = new ArrayList<>();
      for (String name : names) {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        sessions.add(env.createSession(models.get(name).toString(), so));
      }
      float[] ref = null;
      try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape)) {
        for (int i = 0; i < sessions.size(); i++) {
          float[] y = run(sessions.get(i), in);
          if (ref == null) {
            ref = y;
          } else {
            double worst = 0;
            for (int j = 0; j < y.length; j++) {
              worst = Math.max(worst, Math.abs(y[j] - ref[j]) / Math.max(1, Math.abs(ref[j])));
            }
            if (threads == 1) {
              // the floor computes something else: its difference shows the check is live
              System.out.printf(
                  Locale.ROOT,
                  "(%s vs dense: max relative difference %.2e)%n",
                  names.get(i),
                  worst);
            }
          }
        }
        double[][] t = new double[sessions.size()][rounds];
        for (int w = 0; w < 20; w++) {
          for (OrtSession s : sessions) {
            run(s, in);
          }
        }
        for (int k = 0; k < rounds; k++) {
          for (int i = 0; i < sessions.size(); i++) {
            long t0 = System.nanoTime();
            run(sessions.get(i), in);
            t[i][k] = (System.nanoTime() - t0) / 1e6;
          }
        }
        double dense = pct(t[0], 0.5);
        double denseMin = pct(t[0], 0);
        for (int i = 0; i < sessions.size(); i++) {
          System.out.printf(
              Locale.ROOT,
              "| %d | %s | %.3f ms | %.3f ms | %.3f ms | %.2f | %.2f |%n",
              threads,
              names.get(i),
              pct(t[i], 0.5),
              pct(t[i], 0.9),
              pct(t[i], 0),
              pct(t[i], 0.5) / dense,
              pct(t[i], 0) / denseMin);
        }
      }
      for (OrtSession s : sessions) {
        s.close();
      }
    }
  }

  private static float[] run(OrtSession s, OnnxTensor in) throws Exception {
    try (OrtSession.Result res = s.run(Map.of("x", in), java.util.Set.of("y"))) {
      return ((OnnxTensor) res.get(0)).getFloatBuffer().array();
    }
  }

  private static double pct(double[] v, double q) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[(int) Math.min(s.length - 1, Math.floor(q * s.length))];
  }

  /** Runs a cmod command line in this JVM; its output is shown only when it fails. */
  private static void cmod(String... args) throws Exception {
    Method execute = Class.forName("dev.cmod.cli.Main").getMethod("execute", String[].class);
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    int rc;
    try {
      rc = (int) execute.invoke(null, (Object) args);
    } finally {
      System.setOut(out);
    }
    if (rc != 0) {
      throw new IllegalStateException("cmod " + String.join(" ", args) + " failed:\n" + buf);
    }
  }
}
