import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.onnx.OnnxImports;
import dev.cmod.onnx.Precision;
import dev.cmod.onnx.Target;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Times one model compiled for several targets on ONNX Runtime CPU, contenders interleaved in one
 * process (one session per target and optimization level, 1 intra-op and 1 inter-op thread), and
 * prints p50/p90 per contender with its ratio to onnx17 at the same level, after checking that the
 * outputs agree.
 *
 * <p>Usage: {@code java -cp "cli/target/cmod-cli-0.1.0-SNAPSHOT.jar:cli/target/lib/*"
 * scripts/TargetBench.java FILE.cmod BATCH SEQ DIM ROUNDS RUNS_PER_ROUND [LEVEL...]}, LEVEL one of
 * BASIC_OPT, EXTENDED_OPT, ALL_OPT, NO_OPT (default BASIC_OPT). With {@code -Dweights=W.safetensors}
 * the model is compiled with those weights; with {@code -Dtorch=EXPORT.onnx} that file (the same
 * model exported by PyTorch, see scripts/bench/encoder_torch_export.py) runs as one more contender
 * at each level. With {@code -Dmodels=A,B} the file's models A and B (each compiled for every
 * target) are the contenders, ratios against the first (for instance the stacked LoRAs against their
 * base: {@code -Dmodels=Base,Lora8 -Dtargets=onnx17}); {@code -Dtargets=onnx17,ort} picks targets.
 * With {@code -Dprecision=f16} each target also runs compiled with {@code --precision f16} (right
 * after its f32 artifact), and the error line gives max |y| beside the difference.
 */
public class TargetBench {
  public static void main(String[] a) throws Exception {
    Path file = Path.of(a[0]);
    long[] shape = {Long.parseLong(a[1]), Long.parseLong(a[2]), Long.parseLong(a[3])};
    int rounds = Integer.parseInt(a[4]);
    int runs = Integer.parseInt(a[5]);
    List<String> levels = a.length > 6 ? List.of(a).subList(6, a.length) : List.of("BASIC_OPT");
    Target[] targets =
        Arrays.stream(System.getProperty("targets", "onnx17,ort").split(","))
            .map(Target::parse)
            .toArray(Target[]::new);
    List<String> models = List.of(System.getProperty("models", "").split(","));
    CompileOptions o = CompileOptions.defaults().withOptLevel(2).withOnnxImports(OnnxImports.SERVICE);
    String weights = System.getProperty("weights");
    if (weights != null) {
      o = o.toBuilder().weightsFile(Path.of(weights)).build();
    }
    String torch = System.getProperty("torch");
    List<Precision> precisions =
        "f16".equals(System.getProperty("precision"))
            ? List.of(Precision.F32, Precision.F16)
            : List.of(Precision.F32);
    int group = models.size() * targets.length * precisions.size() + (torch != null ? 1 : 0);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[] x = new float[Math.toIntExact(shape[0] * shape[1] * shape[2])];
    Random rnd = new Random(1);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    List<String> names = new ArrayList<>();
    List<OrtSession> sessions = new ArrayList<>();
    for (String level : levels) {
      for (String m : models) {
        for (Target t : targets) {
          for (Precision p : precisions) {
          CompileOptions om = m.isEmpty() ? o : o.withModel(m);
          byte[] model = Toolchain.compile(file, om, t, p).onnx();
          OrtSession.SessionOptions so = new OrtSession.SessionOptions();
          so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.valueOf(level));
          so.setIntraOpNumThreads(1);
          so.setInterOpNumThreads(1);
          sessions.add(env.createSession(model, so));
          names.add(
              (m.isEmpty() ? "" : m + " ")
                  + t.text()
                  + (p == Precision.F32 ? "" : " " + p.text())
                  + " "
                  + level);
          }
        }
      }
      if (torch != null) {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.valueOf(level));
        so.setIntraOpNumThreads(1);
        so.setInterOpNumThreads(1);
        sessions.add(env.createSession(torch, so));
        names.add("torch.onnx.export " + level);
      }
    }
    OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
    Map<String, OnnxTensor> feed = Map.of("x", in);
    float[] ref = null;
    for (int s = 0; s < sessions.size(); s++) {
      try (OrtSession.Result r = sessions.get(s).run(feed)) {
        float[] y = ((OnnxTensor) r.get(0)).getFloatBuffer().array();
        if (ref == null) {
          ref = y;
        }
        double max = 0;
        double top = 0;
        for (int i = 0; i < y.length; i++) {
          max = Math.max(max, Math.abs(y[i] - ref[i]));
          top = Math.max(top, Math.abs(ref[i]));
        }
        System.out.printf(
            Locale.ROOT,
            "%-26s max |y - y(first)| = %.2e (max |y| %.2f)%n",
            names.get(s),
            max,
            top);
      }
    }
    double[][] t = new double[sessions.size()][rounds * runs];
    for (int w = 0; w < 3; w++) {
      for (OrtSession s : sessions) {
        s.run(feed).close();
      }
    }
    for (int r = 0; r < rounds; r++) {
      for (int s = 0; s < sessions.size(); s++) {
        for (int k = 0; k < runs; k++) {
          long t0 = System.nanoTime();
          sessions.get(s).run(feed).close();
          t[s][r * runs + k] = (System.nanoTime() - t0) / 1e6;
        }
      }
    }
    System.out.println("| contender, ORT level | p50 ms | p90 ms | p50 / first of its level |");
    System.out.println("|---|---|---|---|");
    for (int s = 0; s < sessions.size(); s++) {
      double[] v = t[s].clone();
      Arrays.sort(v);
      double[] base = t[s - s % group].clone();
      Arrays.sort(base);
      System.out.printf(
          Locale.ROOT,
          "| %s | %.2f | %.2f | %.3f |%n",
          names.get(s),
          v[v.length / 2],
          v[(int) (v.length * 0.9)],
          v[v.length / 2] / base[base.length / 2]);
    }
  }
}
