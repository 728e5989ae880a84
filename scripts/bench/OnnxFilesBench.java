import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
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
 * Times ONNX files that compute the same function (a model file and cmod artifacts made from it)
 * on ONNX Runtime CPU at one optimization level, interleaved in one process (1 intra-op and 1
 * inter-op thread), after checking that the first output of each equals the first file's; prints
 * p50/p90 and the ratio to the first file. Inputs are made from their names and types: an i64
 * input named *mask* is all ones, *token_type* all zeros, any other i64 input token ids in [1000,
 * 2000); f32 inputs are Gaussian. Symbolic axes are the batch (the first) and SEQ (the others).
 *
 * <p>Usage: {@code java -cp "cli/target/cmod-cli-0.1.0-SNAPSHOT.jar:cli/target/lib/*"
 * scripts/bench/OnnxFilesBench.java LEVEL ROUNDS RUNS_PER_ROUND BATCH SEQ FILE.onnx...}, LEVEL one
 * of NO_OPT, BASIC_OPT, EXTENDED_OPT, ALL_OPT.
 */
public class OnnxFilesBench {
  public static void main(String[] a) throws Exception {
    String level = a[0];
    int rounds = Integer.parseInt(a[1]);
    int runs = Integer.parseInt(a[2]);
    long batch = Long.parseLong(a[3]);
    long seq = Long.parseLong(a[4]);
    List<String> files = List.of(a).subList(5, a.length);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<OrtSession> sessions = new ArrayList<>();
    for (String f : files) {
      OrtSession.SessionOptions so = new OrtSession.SessionOptions();
      so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.valueOf(level));
      so.setIntraOpNumThreads(1);
      so.setInterOpNumThreads(1);
      sessions.add(env.createSession(Files.readAllBytes(Path.of(f)), so));
    }
    List<Map<String, OnnxTensor>> feeds = new ArrayList<>();
    for (OrtSession s : sessions) {
      feeds.add(feed(env, s, batch, seq));
    }
    float[] ref = null;
    for (int s = 0; s < sessions.size(); s++) {
      try (OrtSession.Result r = sessions.get(s).run(feeds.get(s))) {
        float[] y = ((OnnxTensor) r.get(0)).getFloatBuffer().array();
        if (ref == null) {
          ref = y;
        }
        double max = y.length == ref.length ? 0 : Double.POSITIVE_INFINITY;
        for (int i = 0; i < Math.min(y.length, ref.length); i++) {
          max = Math.max(max, Math.abs(y[i] - ref[i]));
        }
        System.out.printf(Locale.ROOT, "%s: max |y - y(first)| = %.2e%n", files.get(s), max);
      }
    }
    double[][] t = new double[sessions.size()][rounds * runs];
    for (int w = 0; w < 3; w++) {
      for (int s = 0; s < sessions.size(); s++) {
        sessions.get(s).run(feeds.get(s)).close();
      }
    }
    for (int r = 0; r < rounds; r++) {
      for (int s = 0; s < sessions.size(); s++) {
        for (int k = 0; k < runs; k++) {
          long t0 = System.nanoTime();
          sessions.get(s).run(feeds.get(s)).close();
          t[s][r * runs + k] = (System.nanoTime() - t0) / 1e6;
        }
      }
    }
    System.out.println("| file, " + level + " | p50 ms | p90 ms | p50 / first |");
    System.out.println("|---|---|---|---|");
    double[] base = t[0].clone();
    Arrays.sort(base);
    for (int s = 0; s < sessions.size(); s++) {
      double[] v = t[s].clone();
      Arrays.sort(v);
      System.out.printf(
          Locale.ROOT,
          "| %s | %.2f | %.2f | %.3f |%n",
          files.get(s),
          v[v.length / 2],
          v[(int) (v.length * 0.9)],
          v[v.length / 2] / base[base.length / 2]);
    }
  }

  private static Map<String, OnnxTensor> feed(OrtEnvironment env, OrtSession s, long b, long seq)
      throws Exception {
    Map<String, OnnxTensor> feed = new LinkedHashMap<>();
    for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
      TensorInfo info = (TensorInfo) e.getValue().getInfo();
      long[] shape = info.getShape().clone();
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] < 0) {
          shape[i] = i == 0 ? b : seq;
        }
      }
      int n = (int) Arrays.stream(shape).reduce(1, (x, y) -> x * y);
      Random rnd = new Random(7);
      String name = e.getKey();
      if (info.type == ai.onnxruntime.OnnxJavaType.INT64) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
          v[i] = name.contains("mask") ? 1 : name.contains("token_type") ? 0 : 1000 + rnd.nextInt(1000);
        }
        feed.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(v), shape));
      } else {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = (float) rnd.nextGaussian();
        }
        feed.put(name, OnnxTensor.createTensor(env, FloatBuffer.wrap(v), shape));
      }
    }
    return feed;
  }
}
