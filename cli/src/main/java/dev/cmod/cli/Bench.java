package dev.cmod.cli;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRegionRunner;
import dev.cmod.onnx.OnnxRunner;
import dev.cmod.onnx.Precision;
import dev.cmod.onnx.Target;
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

  /** Timed runs of one measurement, in milliseconds, sorted. */
  record Times(double[] ms) {
    static Times of(int warmup, int reps, Runnable r) {
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
      return new Times(t);
    }

    /** The {@code q}-quantile (nearest rank), e.g. 0.5 for the median. */
    double quantile(double q) {
      int k = (int) Math.ceil(q * ms.length) - 1;
      return ms[Math.max(0, Math.min(ms.length - 1, k))];
    }

    double p50() {
      return ms.length % 2 == 1
          ? ms[ms.length / 2]
          : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
    }

    double p90() {
      return quantile(0.9);
    }
  }

  /** Median of {@code reps} timed runs after {@code warmup} untimed ones, in milliseconds. */
  static double median(int warmup, int reps, Runnable r) {
    return Times.of(warmup, reps, r).p50();
  }

  /** What a bench run measures besides the model: its runs, threads and inputs. */
  record Setup(
      OnnxRunner.Device device,
      int warmup,
      int reps,
      int threads,
      Map<String, Tensor> inputs,
      boolean json) {}

  static void run(
      Path file,
      CompileOptions base,
      Target target,
      OnnxRunner.Device device,
      int warmup,
      int reps,
      long seed,
      PrintStream out) {
    run(
        file,
        base,
        target,
        Precision.F32,
        new Setup(device, warmup, reps, 0, null, false),
        seed,
        out);
  }

  static void run(
      Path file,
      CompileOptions base,
      Target target,
      Precision precision,
      Setup setup,
      long seed,
      PrintStream out) {
    int warmup = setup.warmup();
    int reps = setup.reps();
    OnnxRunner.Device device = setup.device();
    CompileOptions o0 = base.withOptLevel(0);
    CompileOptions o2 = base.withOptLevel(2);
    Toolchain.Compiled c0 = Toolchain.compile(file, o0, target, precision);
    Toolchain.Compiled c2 = Toolchain.compile(file, o2, target, precision);
    if (!c0.ok() || !c2.ok()) {
      throw new UserError(
          DiagnosticCode.SYNTAX, "the model does not compile; run cmod check " + file);
    }
    Map<String, Long> sizes = Toolchain.defaultSizes(c2.result().graph(), c2.result().facts());
    Map<String, Tensor> in =
        setup.inputs() != null
            ? setup.inputs()
            : Toolchain.randomInputs(c2.result().graph(), c2.result().facts(), sizes, seed);
    if (setup.inputs() != null) {
      InputCheck.check(c2.result().graph(), in);
    }
    long batch = batchOf(in);
    // warm both paths up before timing either, so the first measured does not pay for JIT warm-up
    median(warmup, 1, () -> Toolchain.compile(file, o0, target, precision));
    median(warmup, 1, () -> Toolchain.compile(file, o2, target, precision));
    Times compile0 = Times.of(0, reps, () -> Toolchain.compile(file, o0, target, precision));
    Times compile2 = Times.of(0, reps, () -> Toolchain.compile(file, o2, target, precision));
    Times interp =
        Times.of(
            Math.min(warmup, 2),
            Math.max(3, reps / 4),
            () -> Interpreter.run(c2.result().graph(), in, OnnxRegionRunner.CPU));
    Times ort0 = time(c0.onnx(), setup, in);
    Times ort2 = time(c2.onnx(), setup, in);
    String dev = device.name().toLowerCase(Locale.ROOT);
    if (setup.json()) {
      com.google.gson.JsonObject j = new com.google.gson.JsonObject();
      j.addProperty("file", file.toString());
      j.addProperty("model", c2.result().model());
      j.addProperty("target", target.text());
      j.addProperty("precision", precision.text());
      j.addProperty("device", dev);
      j.addProperty("threads", setup.threads());
      j.addProperty("warmup", warmup);
      j.addProperty("iterations", reps);
      j.addProperty("batch", batch);
      j.add("compile_O0", json(compile0, batch, false));
      j.add("compile_O2", json(compile2, batch, false));
      j.add("interpreter", json(interp, batch, true));
      j.add("onnxruntime_O0", json(ort0, batch, true));
      j.add("onnxruntime_O2", json(ort2, batch, true));
      out.println(new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(j));
      return;
    }
    out.println(
        "bench "
            + file
            + " (model "
            + c2.result().model()
            + ", target "
            + target.text()
            + (precision == Precision.F32 ? "" : ", precision " + precision.text())
            + (setup.inputs() != null ? ", given inputs" : ", sizes " + sizes)
            + ", "
            + (setup.threads() > 0 ? setup.threads() + " threads, " : "")
            + reps
            + " runs after "
            + warmup
            + " warm-up)");
    out.println(
        String.format(Locale.ROOT, "  %-32s %10s %10s %12s", "", "p50 ms", "p90 ms", "examples/s"));
    row(out, "compile -O0 (parse..emit)", compile0, 0, null);
    row(
        out,
        "compile -O2 (parse..emit)",
        compile2,
        0,
        String.format(Locale.ROOT, "%.2fx of -O0", compile2.p50() / compile0.p50()));
    row(out, "reference interpreter", interp, batch, "baseline");
    row(
        out,
        "onnxruntime " + dev + " -O0",
        ort0,
        batch,
        String.format(Locale.ROOT, "%.1fx faster than the interpreter", interp.p50() / ort0.p50()));
    row(
        out,
        "onnxruntime " + dev + " -O2",
        ort2,
        batch,
        String.format(Locale.ROOT, "%.2fx of -O0 time", ort2.p50() / ort0.p50()));
  }

  /** The examples per run: the leading size of the inputs (1 when they have no batch axis). */
  private static long batchOf(Map<String, Tensor> in) {
    for (Tensor t : in.values()) {
      if (t.rank() > 0) {
        return t.shape()[0];
      }
    }
    return 1;
  }

  private static com.google.gson.JsonObject json(Times t, long batch, boolean perExample) {
    com.google.gson.JsonObject o = new com.google.gson.JsonObject();
    o.addProperty("p50_ms", t.p50());
    o.addProperty("p90_ms", t.p90());
    o.addProperty("min_ms", t.ms()[0]);
    o.addProperty("runs", t.ms().length);
    if (perExample) {
      o.addProperty("examples_per_s", batch * 1000.0 / t.p50());
    }
    return o;
  }

  private static Times time(byte[] model, Setup setup, Map<String, Tensor> in) {
    try (OnnxRunner r = OnnxRunner.open(model, setup.device(), setup.threads())) {
      Supplier<Map<String, Tensor>> call = () -> r.run(in);
      return Times.of(setup.warmup(), setup.reps(), call::get);
    }
  }

  private static void row(PrintStream out, String what, Times t, long batch, String note) {
    out.println(
        String.format(
            Locale.ROOT,
            "  %-32s %10.3f %10.3f %12s%s",
            what,
            t.p50(),
            t.p90(),
            batch > 0 ? String.format(Locale.ROOT, "%.1f", batch * 1000.0 / t.p50()) : "",
            note == null ? "" : "   " + note));
  }
}
