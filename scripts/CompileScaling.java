import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.sema.CompileOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Compile time against program size, in one JVM: programs of N layers (a Linear(16, 16) and a
 * relu each, written out one let per layer) for each N given, compiled at -O2 (parse, IR, passes,
 * ONNX bytes) after warm-up; prints the median of R runs per size and its ratio to the previous
 * size.
 *
 * <p>Run: java -cp "cli/target/cmod-cli-0.1.0-SNAPSHOT.jar:cli/target/lib/*"
 * scripts/CompileScaling.java 100 1000 10000
 */
public class CompileScaling {
  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("cmod-scaling");
    int runs = Integer.getInteger("runs", 5);
    double prev = -1;
    long prevN = -1;
    System.out.printf("%8s %12s %12s %10s%n", "layers", "median ms", "ms/layer", "ratio");
    for (String a : args) {
      int n = Integer.parseInt(a);
      Path src = dir.resolve("deep" + n + ".cmod");
      StringBuilder sb = new StringBuilder("import std.nn.{Linear}\nmodel Deep {\n  input x: f32[16]\n");
      sb.append("  let h0 = x\n");
      for (int i = 0; i < n; i++) {
        sb.append("  let h").append(i + 1).append(" = relu(Linear(16, 16)(h").append(i).append("))\n");
      }
      sb.append("  output y: f32[16] = h").append(n).append("\n}\n");
      Files.writeString(src, sb);
      CompileOptions o = CompileOptions.defaults().withOptLevel(2);
      for (int w = 0; w < 2; w++) {
        check(Toolchain.compile(src, o));
      }
      double[] t = new double[runs];
      for (int r = 0; r < runs; r++) {
        long s = System.nanoTime();
        Toolchain.Compiled c = Toolchain.compile(src, o);
        c.onnx();
        t[r] = (System.nanoTime() - s) / 1e6;
        check(c);
      }
      Arrays.sort(t);
      double med = t[runs / 2];
      System.out.printf(
          Locale.ROOT,
          "%8d %12.1f %12.4f %10s%n",
          n,
          med,
          med / n,
          prev < 0 ? "" : String.format(Locale.ROOT, "%.2fx for %dx", med / prev, n / prevN));
      prev = med;
      prevN = n;
    }
  }

  private static void check(Toolchain.Compiled c) {
    if (!c.ok()) {
      throw new IllegalStateException(c.result().diagnostics().all().toString());
    }
  }
}
