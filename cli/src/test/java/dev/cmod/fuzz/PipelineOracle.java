package dev.cmod.fuzz;

import dev.cmod.cli.ExplainAccess;
import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.print.DotPrinter;
import dev.cmod.ir.print.TextPrinter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import dev.cmod.onnx.OnnxChecks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a compile-pipeline fuzz input must satisfy. It compiles the text as {@code
 * sandbox/fuzz.cmod} (the sandbox is a temporary folder holding a module file, an import cycle and
 * two weights files, so relative imports and {@code weights "..."} have something to find) at every
 * model of the file, then does for a successful compilation what {@code cmod compile/graph/explain}
 * do: emit ONNX, print the graph as text and DOT, explain it, and make the random inputs of {@code
 * cmod run} (skipped for inputs of 2^22 to 2^26 elements, which are legitimately large).
 *
 * <p>Findings: any exception or error thrown (the CLI would exit 3 with "internal compiler error")
 * other than the CLI's user-facing {@code UserError}; an error with code CM0900, or the file-level
 * "nests too deeply for the compiler" / "ran out of memory" diagnostics, which is how {@link
 * Compilation} reports an exception, StackOverflowError or OutOfMemoryError that escaped the
 * compiler (run with {@code CMOD_DEBUG=1} to get the stack trace on stderr); a failed compilation
 * without an error diagnostic (a silent exit 1); a successful compilation whose ONNX bytes fail
 * {@link OnnxChecks#validate}. Diagnostics about the program are expected and fine.
 */
final class PipelineOracle {
  private static final Path SANDBOX = makeSandbox();

  /**
   * Inputs seen, compiled to ONNX, and refused with diagnostics (printed after each fuzz test
   * class).
   */
  static final java.util.concurrent.atomic.AtomicLong SEEN =
      new java.util.concurrent.atomic.AtomicLong();

  static final java.util.concurrent.atomic.AtomicLong COMPILED =
      new java.util.concurrent.atomic.AtomicLong();
  static final java.util.concurrent.atomic.AtomicLong REFUSED =
      new java.util.concurrent.atomic.AtomicLong();

  private PipelineOracle() {}

  static String stats() {
    return SEEN
        + " programs: "
        + COMPILED
        + " compiled to ONNX, "
        + REFUSED
        + " refused with diagnostics";
  }

  static Path sandbox() {
    return SANDBOX;
  }

  static void check(String text, int level, long seed) {
    Path path = SANDBOX.resolve("fuzz.cmod");
    SourceFile source = new SourceFile("fuzz.cmod", text);
    Compilation.Result first = Compilation.compile(source, path, options(seed, level));
    SEEN.incrementAndGet();
    (first.ok() ? COMPILED : REFUSED).incrementAndGet();
    checkResult(first, level, seed);
    if (!first.diagnostics().hasErrors()) {
      for (String m : first.models()) {
        if (!m.equals(first.model())) {
          checkResult(
              Compilation.compile(
                  new SourceFile("fuzz.cmod", text), path, options(seed, level).withModel(m)),
              level,
              seed);
        }
      }
    }
  }

  /** The options the cmod command would compile with ({@code import onnx} included). */
  private static CompileOptions options(long seed, int level) {
    return CompileOptions.defaults()
        .withSeed(seed)
        .withOptLevel(level)
        .withOnnxImports(dev.cmod.onnx.OnnxImports.SERVICE);
  }

  private static void checkResult(Compilation.Result r, int level, long seed) {
    for (Diagnostic d : r.diagnostics().all()) {
      DiagnosticRenderer.human(d);
      if (d.code() == DiagnosticCode.INTERNAL) {
        // Compilation turns an exception escaping the compiler into CM0900 (CMOD_DEBUG=1 prints its
        // stack)
        throw new AssertionError(
            "internal compiler error diagnostic: " + DiagnosticRenderer.human(d));
      }
      // ... and a StackOverflowError / OutOfMemoryError into these two file-level diagnostics
      if (d.span() == null
          && d.code() == DiagnosticCode.SOURCE_LIMIT
          && d.message().contains("nests too deeply for the compiler")) {
        throw new StackOverflowError(
            "the compiler overflowed its stack (caught by Compilation): " + d.message());
      }
      if (d.span() == null
          && d.code() == DiagnosticCode.LIMIT
          && d.message().contains("ran out of memory")) {
        throw new OutOfMemoryError(
            "the compiler ran out of memory (caught by Compilation): " + d.message());
      }
    }
    DiagnosticRenderer.json(r.diagnostics().all());
    if (!r.ok()) {
      if (!r.diagnostics().hasErrors()) {
        throw new AssertionError("compilation failed without an error diagnostic");
      }
      return;
    }
    Graph g = r.graph();
    byte[] onnx = Toolchain.emit(g);
    List<String> problems = OnnxChecks.validate(onnx, null);
    if (!problems.isEmpty()) {
      throw new AssertionError(
          "cmod emitted an ONNX file that fails its own checks (-O"
              + level
              + ", seed "
              + seed
              + "): "
              + problems);
    }
    TextPrinter.print(g);
    DotPrinter.print(g);
    explain(r);
    Map<String, Long> sizes = Toolchain.defaultSizes(g, r.facts());
    long total = 0;
    for (Node in : g.inputs()) {
      TensorType t = in.type();
      long n = 1;
      for (int i = 0; i < t.rank(); i++) {
        Dim d = t.dim(i);
        long v = d.isKnown() ? d.value() : d.eval(s -> sizes.getOrDefault(s, 8L));
        n = v < 0 || n > Long.MAX_VALUE / Math.max(1, v) ? Long.MAX_VALUE : n * v;
      }
      total = Math.max(total, n);
    }
    if (total <= (1 << 22) || total > (1 << 26)) {
      // as cmod run without --input does: small inputs are made, inputs over its limit of 2^26
      // elements (2^63 and beyond included) must be refused with the CLI's user-facing error
      try {
        Map<String, Tensor> feed = Toolchain.randomInputs(g, r.facts(), sizes, seed);
        if (feed.size() != g.inputs().size()) {
          throw new AssertionError(
              "random inputs: " + feed.keySet() + " for " + g.inputs().size() + " inputs");
        }
      } catch (RuntimeException e) {
        if (!e.getClass().getName().equals("dev.cmod.cli.UserError")) {
          throw e;
        }
      }
    }
  }

  /**
   * What {@code cmod explain} does, with and without the auto-source column; the report must not be
   * empty.
   */
  private static void explain(Compilation.Result r) {
    for (boolean autoSource : new boolean[] {false, true}) {
      String report = ExplainAccess.model(r, autoSource);
      if (report == null || report.isBlank()) {
        throw new AssertionError("explain printed nothing for model " + r.model());
      }
    }
  }

  private static Path makeSandbox() {
    try {
      Path dir = Files.createTempDirectory("cmod-fuzz-sandbox");
      Files.writeString(
          dir.resolve("blocks.cmod"),
          """
          const WIDTH = 8
          module Twice(dim: int)(x: f32[..., dim]) -> f32[..., dim] {
            x + x
          }
          """);
      Files.writeString(dir.resolve("cycle_a.cmod"), "import \"./cycle_b.cmod\"\nconst A = 1\n");
      Files.writeString(dir.resolve("cycle_b.cmod"), "import \"./cycle_a.cmod\"\nconst B = 2\n");
      Files.createDirectories(dir.resolve("sub"));
      Map<String, Tensor> w = new TreeMap<>();
      w.put("lin0.weight", Tensor.ofFloats(new long[] {4, 4}, new float[16]));
      w.put("w0", Tensor.ofFloats(new long[] {4, 2}, new float[8]));
      Safetensors.write(dir.resolve("w.safetensors"), w, Map.of("k", "v"));
      Files.write(
          dir.resolve("garbage.safetensors"),
          new byte[] {9, 0, 0, 0, 0, 0, 0, 0, '{', '"', 'a', '"', ':', '1'});
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort at exit
    }
  }
}
