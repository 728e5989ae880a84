package dev.cmod.compose;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The composition parity harness (same protocol as dev.cmod.peft.PeftParity, which is
 * package-private): {@code samples/src/test/python/compose_parity.py} (Debian's
 * {@code /usr/bin/python3} with torch) writes per case a {@code weights.safetensors} keyed by cmod
 * paths, inputs and PyTorch's outputs; {@link #check} compiles the case's program with those weights
 * at -O0 and -O2 and compares ONNX Runtime and the IR interpreter with PyTorch at rtol 1e-4 (atol 1e-5).
 */
final class ComposeParity {
  static final String PYTHON = System.getProperty("cmod.parity.python", "/usr/bin/python3");
  static final double RTOL = 1e-4;
  static final double ATOL = 1e-5;
  static final int[] LEVELS = {0, 2};

  private static final Pattern RUN_FILE = Pattern.compile("run(\\d+)\\.(in|out)\\.(.+)\\.npy");
  private static Boolean torch;

  private ComposeParity() {}

  static Path root() {
    String p = System.getProperty("cmod.root");
    Path r = (p != null ? Path.of(p) : Path.of("")).toAbsolutePath().normalize();
    if (!Files.isDirectory(r.resolve("samples")) && r.getParent() != null) {
      r = r.getParent();
    }
    return r;
  }

  /** A shipped sample, {@code samples/NAME.cmod}. */
  static Path sample(String name) {
    Path f = root().resolve("samples/" + name + ".cmod");
    assertTrue(Files.isRegularFile(f), "missing sample " + f);
    return f;
  }

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

  /** Runs compose_parity.py for {@code cases} into {@code out} (one folder per case). */
  static void generate(Path out, String... cases) {
    assumeTorch();
    Path script = root().resolve("samples/src/test/python/compose_parity.py");
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
        fail("compose_parity.py timed out:\n" + log);
      }
      if (pr.exitValue() != 0) {
        fail("compose_parity.py failed (exit " + pr.exitValue() + "):\n" + log);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted");
    }
  }

  /** A test resource under {@code compose/}. */
  static Path resource(String name) {
    URL u = ComposeParity.class.getResource("/compose/" + name);
    assertTrue(u != null, "missing test resource compose/" + name);
    try {
      return Path.of(u.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

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
    assertFalse(runs.isEmpty(), "compose_parity.py wrote no runs into " + caseDir);
    return new ArrayList<>(runs.values());
  }

  /** Compiles or fails the test with the rendered diagnostics. */
  static Compilation.Result compile(Path cmod, Path weights, long seed, int level, String at) {
    Compilation.Result r = Compilation.compile(cmod, new Compilation.Options(null, weights, seed, level));
    assertTrue(r.ok(), at + ": compilation failed:\n" + render(r));
    return r;
  }

  static String render(Compilation.Result r) {
    return r.diagnostics().all().stream().map(DiagnosticRenderer::human).collect(Collectors.joining());
  }

  /** {@link #check(String, Path, Path, Path, Set, Set)} with the case's weights, every parameter given. */
  static void check(String caseName, Path cmod, Path caseDir) {
    check(caseName, cmod, caseDir.resolve("weights.safetensors"), caseDir, Set.of(), null);
  }

  /**
   * Compiles {@code cmod} with {@code weights} at -O0 and -O2 and checks every run of
   * {@code caseDir} against PyTorch (ONNX Runtime and the IR interpreter). The parameters without a
   * key must be exactly {@code defaulted}; at -O0 the graph's parameter paths must be exactly
   * {@code graphParams}, or when that is null the weights keys plus {@code defaulted}.
   */
  static void check(String caseName, Path cmod, Path weights, Path caseDir, Set<String> defaulted, Set<String> graphParams) {
    TreeSet<String> keys = new TreeSet<>(Safetensors.read(weights).keySet());
    List<Run> runs = runs(caseDir);
    for (int level : LEVELS) {
      String at = caseName + " -O" + level;
      Compilation.Result r = compile(cmod, weights, 0, level, at);
      for (Diagnostic d : r.diagnostics().all()) {
        assertFalse(d.code() == DiagnosticCode.WEIGHTS_UNKNOWN_KEY || d.code() == DiagnosticCode.WEIGHTS_SHAPE
            || d.code() == DiagnosticCode.WEIGHTS_DEFAULTED && defaulted.isEmpty(), at + ": unexpected diagnostic:\n" + render(r));
      }
      assertEquals(new TreeSet<>(defaulted), new TreeSet<>(r.facts().defaulted()), at + ": parameters without a weights key");
      if (level == 0) {
        TreeSet<String> all = new TreeSet<>(keys);
        all.addAll(defaulted);
        assertEquals(graphParams != null ? new TreeSet<>(graphParams) : all, paramPaths(r.graph()),
            at + ": parameter paths of the graph vs the weights keys");
      }
      byte[] onnx = Toolchain.emit(r.graph());
      double worstAbs = 0;
      double worstRel = 0;
      for (Run run : runs) {
        Map<String, Tensor> got = E2E.runOrt(onnx, run.inputs());
        assertEquals(run.expected().keySet(), new TreeSet<>(got.keySet()), at + ": output names");
        Map<String, Tensor> ref = E2E.runInterp(r.graph(), run.inputs());
        for (Map.Entry<String, Tensor> e : run.expected().entrySet()) {
          String what = at + " " + run.describe() + " output " + e.getKey();
          double[] err = report(what, e.getValue(), got.get(e.getKey()));
          worstAbs = Math.max(worstAbs, err[0]);
          worstRel = Math.max(worstRel, err[1]);
          E2E.assertClose(e.getValue(), got.get(e.getKey()), RTOL, ATOL, what);
          E2E.assertClose(e.getValue(), ref.get(e.getKey()), RTOL, ATOL, what + " (IR interpreter)");
        }
      }
      System.out.printf(Locale.ROOT, "compose WORST %-40s max|err| %.2e  max rel %.2e%n", at, worstAbs, worstRel);
    }
  }

  /** ONNX Runtime outputs of {@code cmod} compiled with the given weights, seed and level. */
  static Map<String, Tensor> outputs(Path cmod, Path weights, long seed, int level, Map<String, Tensor> inputs) {
    Compilation.Result r = compile(cmod, weights, seed, level, cmod.getFileName() + " -O" + level);
    return E2E.runOrt(Toolchain.emit(r.graph()), inputs);
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

  /** Parameter values by path (at -O0 these are the declared parameters). */
  static Map<String, Tensor> paramValues(Graph g) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        out.put(n.attrs().getString("path"), n.attrs().getTensor("value"));
      }
    }
    return out;
  }

  /** Writes {@code caseDir}'s weights without the keys {@code drop} accepts into {@code file}; returns the dropped keys. */
  static Set<String> writeWithout(Path caseDir, Predicate<String> drop, Path file) {
    Map<String, Tensor> w = new TreeMap<>(Safetensors.read(caseDir.resolve("weights.safetensors")));
    TreeSet<String> dropped = new TreeSet<>();
    w.keySet().removeIf(k -> {
      boolean d = drop.test(k);
      if (d) {
        dropped.add(k);
      }
      return d;
    });
    Safetensors.write(file, w, null);
    return dropped;
  }

  static boolean bitwiseEqual(Tensor a, Tensor b) {
    if (!Arrays.equals(a.shape(), b.shape()) || a.dtype() != b.dtype()) {
      return false;
    }
    return a.isFloat() ? Arrays.equals(a.floats(), b.floats()) : Arrays.equals(a.longs(), b.longs());
  }

  static double maxAbsDiff(Tensor a, Tensor b) {
    assertTrue(Arrays.equals(a.shape(), b.shape()), "shapes " + Arrays.toString(a.shape()) + " vs " + Arrays.toString(b.shape()));
    double m = 0;
    for (int i = 0; i < a.size(); i++) {
      m = Math.max(m, Math.abs(a.get(i) - b.get(i)));
    }
    return m;
  }

  static double maxAbs(Tensor t) {
    double m = 0;
    for (int i = 0; i < t.size(); i++) {
      m = Math.max(m, Math.abs(t.get(i)));
    }
    return m;
  }

  static List<Long> shape(Tensor t) {
    return Arrays.stream(t.shape()).boxed().toList();
  }

  /** Prints and returns {max abs error, max relative error} (relative to max(|expected|, 1e-3)). */
  private static double[] report(String what, Tensor expected, Tensor actual) {
    if (actual == null || !Arrays.equals(expected.shape(), actual.shape())) {
      return new double[] {0, 0};
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
    System.out.printf(Locale.ROOT, "compose %-80s max|err| %.2e  max rel %.2e  max|y| %.2f%n", what, abs, rel, scale);
    return new double[] {abs, rel};
  }
}
