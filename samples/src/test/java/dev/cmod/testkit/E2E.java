package dev.cmod.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnx.proto.OnnxMl;
import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxRegionRunner;
import dev.cmod.onnx.OnnxRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Shared end-to-end helpers for tests: .cmod source -> IR -> ONNX -> ONNX Runtime, and comparisons.
 */
public final class E2E {
  private E2E() {}

  /** A successful compilation: the graph and its ONNX bytes. */
  public record Built(Compilation.Result result, Graph graph, byte[] onnx) {}

  /**
   * Compiles source text (written to {@code dir/name}) and fails the test with the rendered
   * diagnostics on error.
   */
  public static Built compileSource(Path dir, String name, String source, CompileOptions o) {
    try {
      Path f = dir.resolve(name);
      Files.writeString(f, source);
      return compileFile(f, o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Built compileFile(Path file, CompileOptions o) {
    return built(Compilation.compile(file, o));
  }

  /** Compiles in memory (no file); imports resolve against the current folder. */
  public static Built compileText(String source, CompileOptions o) {
    return built(Compilation.compile(new SourceFile("test.cmod", source), null, o));
  }

  /** The graph and ONNX bytes of a compilation, or the test fails with its diagnostics. */
  private static Built built(Compilation.Result r) {
    if (!r.ok()) {
      fail(
          "compilation failed:\n"
              + r.diagnostics().all().stream()
                  .map(DiagnosticRenderer::human)
                  .collect(Collectors.joining()));
    }
    return new Built(r, r.graph(), Toolchain.emit(r.graph()));
  }

  /** The options the {@code cmod} command compiles with at {@code level} (import onnx included). */
  public static CompileOptions opts(int level) {
    return CompileOptions.defaults()
        .withOptLevel(level)
        .withOnnxImports(dev.cmod.onnx.OnnxImports.SERVICE);
  }

  public static Map<String, Tensor> runOrt(byte[] onnx, Map<String, Tensor> inputs) {
    try (OnnxRunner r = OnnxRunner.open(onnx, OnnxRunner.Device.CPU)) {
      return r.run(inputs);
    }
  }

  public static Map<String, Tensor> runInterp(Graph g, Map<String, Tensor> inputs) {
    return Interpreter.run(g, inputs, OnnxRegionRunner.CPU);
  }

  /** Random inputs for {@code b} with symbol sizes (e.g. batch=2, seq=5). */
  public static Map<String, Tensor> inputs(Built b, Map<String, Long> sizes, long seed) {
    return Toolchain.randomInputs(b.graph(), b.result().facts(), sizes, seed);
  }

  /**
   * Asserts equal shapes and |a-b| <= atol + rtol*|b| elementwise (integers exactly). A NaN on
   * either side fails; a test that expects NaN says so with {@link #assertCloseNaNsMatch}.
   */
  public static void assertClose(
      Tensor expected, Tensor actual, double rtol, double atol, String what) {
    assertClose(expected, actual, rtol, atol, what, false);
  }

  /**
   * {@link #assertClose}, except that a NaN in {@code actual} matches a NaN in {@code expected}
   * (and only that).
   */
  public static void assertCloseNaNsMatch(
      Tensor expected, Tensor actual, double rtol, double atol, String what) {
    assertClose(expected, actual, rtol, atol, what, true);
  }

  private static void assertClose(
      Tensor expected,
      Tensor actual,
      double rtol,
      double atol,
      String what,
      boolean nanMatchesNaN) {
    assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
    assertEquals(expected.isFloat(), actual.isFloat(), what + ": dtype class");
    double worst = 0;
    int at = -1;
    for (int i = 0; i < expected.size(); i++) {
      double e = expected.get(i);
      double a = actual.get(i);
      if (nanMatchesNaN && Double.isNaN(e) && Double.isNaN(a)) {
        continue;
      }
      double err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
      if (Double.isNaN(err) || err > worst) {
        worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
        at = i;
      }
    }
    if (at >= 0) {
      fail(
          what
              + ": element "
              + at
              + " expected "
              + expected.get(at)
              + " but was "
              + actual.get(at)
              + " (rtol "
              + rtol
              + ", atol "
              + atol
              + ")");
    }
  }

  /** The metadata_props of an ONNX model, by key. */
  public static Map<String, String> onnxMetadata(byte[] onnx) {
    OnnxMl.ModelProto m;
    try {
      m = OnnxMl.ModelProto.parseFrom(onnx);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> meta = new HashMap<>();
    for (OnnxMl.StringStringEntryProto e : m.getMetadataPropsList()) {
      meta.put(e.getKey(), e.getValue());
    }
    return meta;
  }

  /**
   * The items of a comma-separated list (such as the metadata cmod.frozen); none for null or "".
   */
  public static TreeSet<String> commaList(String s) {
    TreeSet<String> out = new TreeSet<>();
    if (s != null && !s.isEmpty()) {
      out.addAll(Arrays.asList(s.split(",")));
    }
    return out;
  }

  /** Runs on ONNX Runtime and on the interpreter and compares every output. */
  public static Map<String, Tensor> assertOrtMatchesInterpreter(
      Built b, Map<String, Tensor> inputs, double rtol, double atol) {
    Map<String, Tensor> ort = runOrt(b.onnx(), inputs);
    Map<String, Tensor> ref = runInterp(b.graph(), inputs);
    assertEquals(ref.keySet(), ort.keySet(), "output names");
    for (String k : ref.keySet()) {
      assertClose(ref.get(k), ort.get(k), rtol, atol, "output " + k);
    }
    return ort;
  }
}
