package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRunner;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code cmod bench FILE --model A --against B}: two models of one file (an adapted model and its
 * base, say) compiled with the same options and run on ONNX Runtime on the same inputs, their runs
 * interleaved (A B, then B A, ...) so that a drift in the machine's load falls on both alike; the
 * ratio of the medians is the figure to compare across machines.
 */
final class BenchAgainst {
  private BenchAgainst() {}

  static void run(
      Path file,
      CompileOptions options,
      String against,
      OnnxRunner.Device device,
      int threads,
      int warmup,
      int reps,
      long seed,
      PrintStream out) {
    CompileOptions other = options.withModel(against);
    Toolchain.Compiled a = Toolchain.compile(file, options);
    Toolchain.Compiled b = Toolchain.compile(file, other);
    if (!a.ok() || !b.ok()) {
      throw new UserError(
          DiagnosticCode.SYNTAX, "the models do not compile; run cmod check " + file);
    }
    if (a.onnx() == null || b.onnx() == null) {
      throw new UserError(
          DiagnosticCode.RUNTIME,
          "a model over 2 GiB is written with external data; bench it from its file");
    }
    String nameA = a.result().model();
    String nameB = b.result().model();
    if (!signature(a).equals(signature(b))) {
      throw new UserError(
          DiagnosticCode.RUNTIME,
          "--against needs a model with the same inputs: "
              + nameA
              + " takes "
              + signature(a)
              + ", "
              + nameB
              + " takes "
              + signature(b));
    }
    Map<String, Long> sizes = Toolchain.defaultSizes(a.result().graph(), a.result().facts());
    Map<String, Tensor> in =
        Toolchain.randomInputs(a.result().graph(), a.result().facts(), sizes, seed);
    out.println(
        String.format(
            Locale.ROOT,
            "bench %s: model %s against %s (-O%d, sizes %s, %s, %d interleaved runs after %d"
                + " warm-up)",
            file,
            nameA,
            nameB,
            options.optLevel(),
            sizes,
            threads > 0 ? threads + " thread(s)" : "ONNX Runtime's default threads",
            reps,
            warmup));
    int compileRuns = Math.max(1, reps / 10);
    double compileA = Bench.median(1, compileRuns, () -> Toolchain.compile(file, options));
    double compileB = Bench.median(1, compileRuns, () -> Toolchain.compile(file, other));
    row(out, "compile " + nameA + " (parse..emit)", compileA, "");
    row(out, "compile " + nameB + " (parse..emit)", compileB, "");
    double[][] t = new double[2][reps];
    try (OnnxRunner ra = OnnxRunner.open(a.onnx(), device, threads);
        OnnxRunner rb = OnnxRunner.open(b.onnx(), device, threads)) {
      for (int i = 0; i < warmup; i++) {
        ra.run(in);
        rb.run(in);
      }
      for (int i = 0; i < reps; i++) {
        boolean aFirst = i % 2 == 0;
        OnnxRunner first = aFirst ? ra : rb;
        OnnxRunner second = aFirst ? rb : ra;
        double t1 = timeOnce(first, in);
        double t2 = timeOnce(second, in);
        t[0][i] = aFirst ? t1 : t2;
        t[1][i] = aFirst ? t2 : t1;
      }
    }
    String dev = device.name().toLowerCase(Locale.ROOT);
    double[] p50 = new double[2];
    for (int k = 0; k < 2; k++) {
      double[] s = t[k].clone();
      Arrays.sort(s);
      Bench.Times times = new Bench.Times(s);
      p50[k] = times.quantile(0.5);
      double p90 = times.p90();
      row(
          out,
          "onnxruntime " + dev + " " + (k == 0 ? nameA : nameB) + " p50",
          p50[k],
          String.format(
              Locale.ROOT,
              "   min %.3f ms, p90 %.3f ms, %.1f runs/s",
              s[0],
              p90,
              1000.0 / Math.max(p50[k], 1e-9)));
    }
    out.println(
        String.format(
            Locale.ROOT, "  %-40s %10.3f", nameA + " / " + nameB + " (p50)", p50[0] / p50[1]));
  }

  private static double timeOnce(OnnxRunner r, Map<String, Tensor> in) {
    long s = System.nanoTime();
    r.run(in);
    return (System.nanoTime() - s) / 1e6;
  }

  /** Input names and declared types, in order: two models with the same take the same inputs. */
  private static List<String> signature(Toolchain.Compiled c) {
    List<String> s = new ArrayList<>();
    for (Node n : c.result().graph().inputs()) {
      s.add(n.attrs().getString("name") + ": " + n.type());
    }
    return s;
  }

  private static void row(PrintStream out, String what, double ms, String note) {
    out.println(String.format(Locale.ROOT, "  %-40s %10.3f ms%s", what, ms, note));
  }
}
