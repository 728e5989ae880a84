import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.onnx.OnnxImports;
import dev.cmod.onnx.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * ONNX Runtime session creation (load, graph optimization at ALL, kernel setup) for a cmod model
 * compiled for onnx17 and ort and, optionally, another ONNX file (the same model exported by
 * PyTorch), interleaved in one process; prints the median and p90 of R creations each.
 *
 * <p>Run: java [-Dweights=W.safetensors] -cp "cli/target/cmod-cli-0.1.0-SNAPSHOT.jar:cli/target/lib/*"
 * scripts/SessionBench.java FILE.cmod ROUNDS [OTHER.onnx]
 */
public class SessionBench {
  public static void main(String[] a) throws Exception {
    Path file = Path.of(a[0]);
    int rounds = Integer.parseInt(a[1]);
    CompileOptions o = CompileOptions.defaults().withOptLevel(2).withOnnxImports(OnnxImports.SERVICE);
    String weights = System.getProperty("weights");
    if (weights != null) {
      o = o.toBuilder().weightsFile(Path.of(weights)).build();
    }
    List<String> names = new ArrayList<>();
    List<byte[]> models = new ArrayList<>();
    for (Target t : new Target[] {Target.ONNX17, Target.ORT}) {
      names.add("cmod " + t.text());
      models.add(Toolchain.compile(file, o, t).onnx());
    }
    if (a.length > 2) {
      names.add(Path.of(a[2]).getFileName().toString());
      models.add(Files.readAllBytes(Path.of(a[2])));
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double[][] t = new double[models.size()][rounds];
    for (int r = -2; r < rounds; r++) {
      for (int m = 0; m < models.size(); m++) {
        long s = System.nanoTime();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
            OrtSession session = env.createSession(models.get(m), so)) {
          if (r >= 0) {
            t[m][r] = (System.nanoTime() - s) / 1e6;
          }
        }
      }
    }
    System.out.println("| model | bytes | p50 ms | p90 ms |");
    System.out.println("|---|---|---|---|");
    for (int m = 0; m < models.size(); m++) {
      double[] v = t[m].clone();
      Arrays.sort(v);
      System.out.printf(
          Locale.ROOT,
          "| %s | %d | %.1f | %.1f |%n",
          names.get(m),
          models.get(m).length,
          v[v.length / 2],
          v[(int) (v.length * 0.9)]);
    }
  }
}
