package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRegionRunner;
import dev.cmod.onnx.OnnxRunner;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code cmod bench}: times compilation and inference of one model in one process, and reports
 * ratios against baselines measured in the same run (the reference interpreter for ONNX Runtime,
 * -O0 for -O2), so the figures compare across machines better than absolute times do.
 */
final class Bench {
  private Bench() {}

  /** Median of {@code reps} timed runs after {@code warmup} untimed ones, in milliseconds. */
  static double median(int warmup, int reps, Runnable r) {
    for (int i = 0; i < warmup; i++) {
      r.run();
    }
    double[] t = new double[reps];
    for (int i = 0; i < reps; i++) {
      long s = System.nanoTime();
      r.run();
      t[i] = (System.nanoTime() - s) / 1e6;
    }
    Arrays.sort(t);
    return reps % 2 == 1 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
  }

  static void run(
      Path file,
      CompileOptions base,
      OnnxRunner.Device device,
      int threads,
      int warmup,
      int reps,
      long seed,
      PrintStream out) {
    CompileOptions o0 = base.withOptLevel(0);
    CompileOptions o2 = base.withOptLevel(2);
    Toolchain.Compiled c0 = Toolchain.compile(file, o0);
    Toolchain.Compiled c2 = Toolchain.compile(file, o2);
    if (!c0.ok() || !c2.ok()) {
      throw new UserError(
          DiagnosticCode.SYNTAX, "the model does not compile; run cmod check " + file);
    }
    Map<String, Long> sizes = Toolchain.defaultSizes(c2.result().graph(), c2.result().facts());
    Map<String, Tensor> in =
        Toolchain.randomInputs(c2.result().graph(), c2.result().facts(), sizes, seed);
    out.println(
        "bench "
            + file
            + " (model "
            + c2.result().model()
            + ", sizes "
            + sizes
            + ", "
            + reps
            + " runs after "
            + warmup
            + " warm-up, median)");
    // warm both paths up before timing either, so the first measured does not pay for JIT warm-up
    median(warmup, 1, () -> Toolchain.compile(file, o0));
    median(warmup, 1, () -> Toolchain.compile(file, o2));
    double compile0 = median(0, reps, () -> Toolchain.compile(file, o0));
    double compile2 = median(0, reps, () -> Toolchain.compile(file, o2));
    row(out, "compile -O0 (parse..emit)", compile0, null);
    row(
        out,
        "compile -O2 (parse..emit)",
        compile2,
        String.format(Locale.ROOT, "%.2fx of -O0", compile2 / compile0));
    double interp =
        median(
            Math.min(warmup, 2),
            Math.max(3, reps / 4),
            () -> Interpreter.run(c2.result().graph(), in, OnnxRegionRunner.CPU));
    double ort0 = time(c0.onnx(), device, threads, in, warmup, reps);
    double ort2 = time(c2.onnx(), device, threads, in, warmup, reps);
    row(out, "reference interpreter", interp, "baseline");
    row(
        out,
        "onnxruntime " + device.name().toLowerCase(Locale.ROOT) + " -O0",
        ort0,
        String.format(Locale.ROOT, "%.1fx faster than the interpreter", interp / ort0));
    row(
        out,
        "onnxruntime " + device.name().toLowerCase(Locale.ROOT) + " -O2",
        ort2,
        String.format(Locale.ROOT, "%.2fx of -O0 time", ort2 / ort0));
  }

  private static double time(
      byte[] model,
      OnnxRunner.Device device,
      int threads,
      Map<String, Tensor> in,
      int warmup,
      int reps) {
    try (OnnxRunner r = OnnxRunner.open(model, device, threads)) {
      Supplier<Map<String, Tensor>> call = () -> r.run(in);
      return median(warmup, reps, call::get);
    }
  }

  private static void row(PrintStream out, String what, double ms, String note) {
    out.println(
        String.format(
            Locale.ROOT, "  %-32s %10.3f ms%s", what, ms, note == null ? "" : "   " + note));
  }
}
