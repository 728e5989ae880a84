package dev.cmod.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The PyTorch parity harness: {@code samples/src/test/python/parity.py} (run with Debian's
 * {@code /usr/bin/python3}, which has torch) writes, per case, a {@code weights.safetensors} keyed
 * by cmod parameter paths, input {@code .npy} files and PyTorch's outputs; {@link #check} compiles
 * the case's {@code .cmod} with those weights at -O0 and -O2, runs it on ONNX Runtime and compares.
 */
final class Parity {
  /** The Python that has torch (the pyenv python3 on PATH does not); -Dcmod.parity.python overrides. */
  static final String PYTHON = System.getProperty("cmod.parity.python", "/usr/bin/python3");
  /** |actual - expected| <= ATOL + RTOL * |expected| elementwise. */
  static final double RTOL = 1e-4;
  static final double ATOL = 1e-5;
  static final int[] LEVELS = {0, 2};
  /** Also compare the compiler's own IR interpreter with PyTorch. */
  static final boolean INTERPRETER = true;

  private static final Pattern RUN_FILE = Pattern.compile("run(\\d+)\\.(in|out)\\.(.+)\\.npy");
  private static Boolean torch;

  private Parity() {}

  /** The repository root (surefire sets cmod.root; otherwise the folder above samples/). */
  static Path root() {
    String p = System.getProperty("cmod.root");
    Path r = p != null ? Path.of(p) : Path.of("").toAbsolutePath();
    r = r.toAbsolutePath().normalize();
    if (!Files.isDirectory(r.resolve("samples")) && r.getParent() != null) {
      r = r.getParent();
    }
    return r;
  }

  /** Skips the calling test when {@code /usr/bin/python3 -c "import torch"} does not work. */
  static synchronized void assumeTorch() {
    if (torch == null) {
      torch = false;
      try {
        Process pr = new ProcessBuilder(PYTHON, "-c", "import torch, numpy").redirectErrorStream(true).start();
        pr.getInputStream().readAllBytes();
        torch = pr.waitFor(60, TimeUnit.SECONDS) && pr.exitValue() == 0;
      } catch (IOException e) {
        torch = false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Assumptions.assumeTrue(torch, PYTHON + " with torch is not available (install python3-torch)");
  }

  /** Runs parity.py for {@code cases} into {@code out} (one folder per case). */
  static void generate(Path out, String... cases) {
    assumeTorch();
    Path script = root().resolve("samples/src/test/python/parity.py");
    assertTrue(Files.isRegularFile(script), "missing " + script);
    List<String> cmd = new ArrayList<>(List.of(PYTHON, script.toString(), out.toString()));
    cmd.addAll(Arrays.asList(cases));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("OMP_NUM_THREADS", "1");
      Process pr = pb.start();
      String log = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!pr.waitFor(300, TimeUnit.SECONDS)) {
        pr.destroyForcibly();
        fail("parity.py timed out:\n" + log);
      }
      if (pr.exitValue() != 0) {
        fail("parity.py failed (exit " + pr.exitValue() + "):\n" + log);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted");
    }
  }

  /** A test resource under {@code parity/}. */
  static Path resource(String name) {
    URL u = Parity.class.getResource("/parity/" + name);
    assertTrue(u != null, "missing test resource parity/" + name);
    try {
      return Path.of(u.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One run of a case: its inputs and PyTorch's outputs, by port name. */
  record Run(int index, Map<String, Tensor> inputs, Map<String, Tensor> expected) {
    String describe() {
      return "run " + index + " " + inputs.entrySet().stream()
          .map(e -> e.getKey() + Arrays.toString(e.getValue().shape())).collect(Collectors.joining(" "));
    }
  }

  static List<Run> runs(Path caseDir) {
    TreeMap<Integer, Run> runs = new TreeMap<>();
    try (Stream<Path> files = Files.list(caseDir)) {
      for (Path f : files.sorted().toList()) {
        Matcher m = RUN_FILE.matcher(f.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        Run r = runs.computeIfAbsent(Integer.parseInt(m.group(1)), i -> new Run(i, new TreeMap<>(), new TreeMap<>()));
        (m.group(2).equals("in") ? r.inputs() : r.expected()).put(m.group(3), Npy.read(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertFalse(runs.isEmpty(), "parity.py wrote no runs into " + caseDir);
    return new ArrayList<>(runs.values());
  }

  /**
   * Compiles {@code cmod} with {@code caseDir/weights.safetensors} at -O0 and -O2 and checks every
   * run's ONNX Runtime outputs against PyTorch's. Also checks that the compile reports no error,
   * that every weights key names a parameter and every parameter got a key.
   */
  static void check(String caseName, Path cmod, Path caseDir) {
    Path weights = caseDir.resolve("weights.safetensors");
    TreeSet<String> keys = new TreeSet<>(Safetensors.read(weights).keySet());
    List<Run> runs = runs(caseDir);
    for (int level : LEVELS) {
      String at = caseName + " -O" + level;
      Compilation.Result r = Compilation.compile(cmod, new Compilation.Options(null, weights, 0, level));
      String diags = r.diagnostics().all().stream().map(DiagnosticRenderer::human).collect(Collectors.joining());
      assertTrue(r.ok(), at + ": compilation failed:\n" + diags);
      for (Diagnostic d : r.diagnostics().all()) {
        assertFalse(d.code() == DiagnosticCode.WEIGHTS_UNKNOWN_KEY || d.code() == DiagnosticCode.WEIGHTS_SHAPE
            || d.code() == DiagnosticCode.WEIGHTS_DEFAULTED, at + ": unexpected diagnostic:\n" + diags);
      }
      assertEquals(List.of(), List.copyOf(r.facts().defaulted()), at + ": parameters without a weights key");
      if (level == 0) {
        assertEquals(keys, paramPaths(r.graph()), at + ": parameter paths of the graph vs the weights keys");
      }
      byte[] onnx = Toolchain.emit(r.graph());
      for (Run run : runs) {
        Map<String, Tensor> got = E2E.runOrt(onnx, run.inputs());
        assertEquals(run.expected().keySet(), new TreeSet<>(got.keySet()), at + ": output names");
        for (Map.Entry<String, Tensor> e : run.expected().entrySet()) {
          String what = at + " " + run.describe() + " output " + e.getKey();
          Tensor actual = got.get(e.getKey());
          report(what, e.getValue(), actual);
          E2E.assertClose(e.getValue(), actual, RTOL, ATOL, what);
        }
        if (INTERPRETER) {
          Map<String, Tensor> ref = E2E.runInterp(r.graph(), run.inputs());
          for (Map.Entry<String, Tensor> e : run.expected().entrySet()) {
            String what = at + " " + run.describe() + " output " + e.getKey() + " (IR interpreter)";
            report(what, e.getValue(), ref.get(e.getKey()));
            E2E.assertClose(e.getValue(), ref.get(e.getKey()), RTOL, ATOL, what);
          }
        }
      }
    }
  }

  static TreeSet<String> paramPaths(Graph g) {
    TreeSet<String> out = new TreeSet<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        out.add(n.attrs().getString("path"));
      }
    }
    return out;
  }

  /** Prints the worst absolute and relative deviation (for the test log). */
  private static void report(String what, Tensor expected, Tensor actual) {
    if (!Arrays.equals(expected.shape(), actual.shape())) {
      return;
    }
    double abs = 0;
    double rel = 0;
    double scale = 0;
    for (int i = 0; i < expected.size(); i++) {
      double d = Math.abs(expected.get(i) - actual.get(i));
      abs = Math.max(abs, d);
      rel = Math.max(rel, d / Math.max(Math.abs(expected.get(i)), 1e-3));
      scale = Math.max(scale, Math.abs(expected.get(i)));
    }
    System.out.printf(Locale.ROOT, "parity %-70s max|err| %.2e  max rel %.2e  max|y| %.2f%n", what, abs, rel, scale);
  }
}
