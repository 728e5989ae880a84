package dev.cmod.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cmod.cli.Main;
import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
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

/**
 * The PyTorch parity harness shared by the corpus suite ({@code dev.cmod.parity.PyTorchParityTest},
 * whose cases {@link ParityCase} reads) and by the composition tests that reuse its data. A Python
 * script under {@code samples/src/test/python/} (run with Debian's {@code /usr/bin/python3}, which
 * has torch; see {@link Need#torchPython()}) writes, per case, a folder with a {@code
 * weights.safetensors} keyed by cmod parameter paths, the inputs {@code run<i>.in.<name>.npy} and
 * PyTorch's outputs {@code run<i>.out.<name>.npy}; {@link #check} compiles a {@code .cmod} with
 * those weights at the case's levels, runs it on ONNX Runtime (and the compiler's IR interpreter)
 * and compares with PyTorch elementwise, {@code |actual - expected| <= atol + rtol * |expected|}.
 * The other helpers (compiling, parameter paths and values, tensor comparisons) serve the tests
 * around the corpus.
 */
public final class PyParity {
  private PyParity() {}

  /** The Python that has torch (the pyenv python3 on PATH does not): {@link Need#torchPython()}. */
  public static final String PYTHON = Need.torchPython();

  /** The optimization levels the checks outside the corpus compile at. */
  public static final List<Integer> LEVELS = List.of(0, 2);

  private static final Pattern RUN_FILE = Pattern.compile("run(\\d+)\\.(in|out)\\.(.+)\\.npy");

  // ---------------------------------------------------------------------------------------------
  // the Python side

  /** The repository root (surefire sets cmod.root; otherwise the folder above samples/). */
  public static Path root() {
    String p = System.getProperty("cmod.root");
    Path r = (p != null ? Path.of(p) : Path.of("")).toAbsolutePath().normalize();
    if (!Files.isDirectory(r.resolve("samples")) && r.getParent() != null) {
      r = r.getParent();
    }
    return r;
  }

  /** A shipped sample, {@code samples/NAME.cmod}. */
  public static Path sample(String name) {
    Path f = root().resolve("samples/" + name + ".cmod");
    assertTrue(Files.isRegularFile(f), "missing sample " + f);
    return f;
  }

  /**
   * Skips the calling test, with the reason, when {@link #PYTHON} cannot {@code import torch,
   * numpy}; fails it in CI ({@link Need#require()}). Classes that generate in {@code @BeforeAll}
   * carry {@code @Requires(Need.TORCH)} so that the skip is reported per test.
   */
  public static void requireTorch() {
    Need.TORCH.require();
  }

  /** Runs {@code script} for {@code cases} into {@code out} (one folder per case). */
  public static void generate(String script, Path out, Collection<String> cases) {
    requireTorch();
    Path file = root().resolve("samples/src/test/python/" + script);
    assertTrue(Files.isRegularFile(file), "missing " + file);
    List<String> cmd = new ArrayList<>(List.of(PYTHON, file.toString(), out.toString()));
    cmd.addAll(cases);
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("OMP_NUM_THREADS", "1");
      Process pr = pb.start();
      String log = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!pr.waitFor(300, TimeUnit.SECONDS)) {
        pr.destroyForcibly();
        fail(script + " timed out:\n" + log);
      }
      if (pr.exitValue() != 0) {
        fail(script + " failed (exit " + pr.exitValue() + "):\n" + log);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted");
    }
  }

  /** A test resource, such as {@code peft/lora_mlp.cmod}. */
  public static Path resource(String at) {
    URL u = PyParity.class.getResource("/" + at);
    assertTrue(u != null, "missing test resource " + at);
    try {
      return Path.of(u.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One run of a case: its inputs and PyTorch's outputs, by port name. */
  public record Run(int index, Map<String, Tensor> inputs, Map<String, Tensor> expected) {
    /** The inputs as the corpus writes them: {@code name dtype[shape]; ...}, by name. */
    public String signature() {
      return inputs.entrySet().stream()
          .map(e -> e.getKey() + " " + e.getValue().dtype() + Arrays.toString(e.getValue().shape()))
          .collect(Collectors.joining("; "));
    }

    public String describe() {
      return "run "
          + index
          + " "
          + inputs.entrySet().stream()
              .map(e -> e.getKey() + Arrays.toString(e.getValue().shape()))
              .collect(Collectors.joining(" "));
    }
  }

  /**
   * Copies the run files of {@code caseDir} (not its weights) into {@code to}, which is created if
   * needed.
   */
  public static void copyRuns(Path caseDir, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(caseDir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith("run")).toList()) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** The runs the script wrote into {@code caseDir}, by index. */
  public static List<Run> runs(Path caseDir) {
    TreeMap<Integer, Run> runs = new TreeMap<>();
    try (Stream<Path> files = Files.list(caseDir)) {
      for (Path f : files.sorted().toList()) {
        Matcher m = RUN_FILE.matcher(f.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        Run r =
            runs.computeIfAbsent(
                Integer.parseInt(m.group(1)), i -> new Run(i, new TreeMap<>(), new TreeMap<>()));
        (m.group(2).equals("in") ? r.inputs() : r.expected()).put(m.group(3), Npy.read(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertFalse(runs.isEmpty(), "no runs in " + caseDir);
    return new ArrayList<>(runs.values());
  }

  // ---------------------------------------------------------------------------------------------
  // the check

  /**
   * Compiles {@code cmod} with {@code weights} at the levels of {@code c} and checks every run of
   * {@code caseDir} against PyTorch: ONNX Runtime, and when the case says so the IR interpreter,
   * within the case's tolerances. The compile must give the case's model and report no error and no
   * unknown key or wrong shape; the parameters without a key must be exactly {@code defaulted}
   * (when empty, no parameter may be defaulted); at -O0 the graph's parameter paths must be exactly
   * the case's {@code params}, or when it has none the weights keys plus {@code defaulted}.
   */
  public static void check(
      ParityCase c, String label, Path cmod, Path weights, Path caseDir, Set<String> defaulted) {
    TreeSet<String> keys = new TreeSet<>(Safetensors.read(weights).keySet());
    List<Run> runs = runs(caseDir);
    for (int level : c.levels()) {
      String at = label + " -O" + level;
      Compilation.Result r = compile(cmod, weights, 0, level, at);
      assertEquals(c.model(), r.model(), at + ": model");
      for (Diagnostic d : r.diagnostics().all()) {
        assertFalse(
            d.code() == DiagnosticCode.WEIGHTS_UNKNOWN_KEY
                || d.code() == DiagnosticCode.WEIGHTS_SHAPE
                || d.code() == DiagnosticCode.WEIGHTS_DEFAULTED && defaulted.isEmpty(),
            at + ": unexpected diagnostic:\n" + render(r));
      }
      assertEquals(
          new TreeSet<>(defaulted),
          new TreeSet<>(r.facts().defaulted()),
          at + ": parameters without a weights key");
      if (level == 0) {
        TreeSet<String> all = new TreeSet<>(keys);
        all.addAll(defaulted);
        assertEquals(
            c.params() != null ? new TreeSet<>(c.params()) : all,
            paramPaths(r.graph()),
            at + ": parameter paths of the graph vs the weights keys");
      }
      byte[] onnx = Toolchain.emit(r.graph());
      double worstAbs = 0;
      double worstRel = 0;
      for (Run run : runs) {
        Map<String, Tensor> got = E2E.runOrt(onnx, run.inputs());
        assertEquals(run.expected().keySet(), new TreeSet<>(got.keySet()), at + ": output names");
        Map<String, Tensor> ref = c.interpreter() ? E2E.runInterp(r.graph(), run.inputs()) : null;
        for (Map.Entry<String, Tensor> e : run.expected().entrySet()) {
          String what = at + " " + run.describe() + " output " + e.getKey();
          double[] err = report(c.tag(), what, e.getValue(), got.get(e.getKey()));
          worstAbs = Math.max(worstAbs, err[0]);
          worstRel = Math.max(worstRel, err[1]);
          E2E.assertClose(e.getValue(), got.get(e.getKey()), c.rtol(), c.atol(), what);
          if (ref != null) {
            report(c.tag(), what + " (IR interpreter)", e.getValue(), ref.get(e.getKey()));
            E2E.assertClose(
                e.getValue(), ref.get(e.getKey()), c.rtol(), c.atol(), what + " (IR interpreter)");
          }
        }
      }
      System.out.printf(
          Locale.ROOT,
          "%s WORST %-40s max|err| %.2e  max rel %.2e%n",
          c.tag(),
          at,
          worstAbs,
          worstRel);
    }
  }

  /**
   * A fresh composition leaves the base unchanged: the program of case {@code c} compiled with
   * {@code weights} (the case's weights without the composition's trained keys, {@code dropped}) at
   * the case's levels gives, for every run, PyTorch's output {@code base} (within the case's
   * tolerances) and, bit for bit, that same value for each output in {@code same} (every output
   * when null). Where {@code minEffect > 0}, PyTorch's trained value of each of them also differs
   * from its base by more than that; and the parity check with the dropped keys declared defaulted
   * must fail against the trained outputs, so that the check is not vacuous.
   */
  public static void assertFreshKeepsBase(
      ParityCase c,
      String label,
      Path weights,
      Set<String> dropped,
      String base,
      Set<String> same,
      double minEffect) {
    Path cmod = c.program();
    for (Run run : runs(c.dir())) {
      for (int level : c.levels()) {
        Map<String, Tensor> got = outputs(cmod, weights, 0, level, run.inputs());
        String at = label + " -O" + level + " " + run.describe();
        E2E.assertClose(
            run.expected().get(base),
            got.get(base),
            c.rtol(),
            c.atol(),
            at + " " + base + " vs PyTorch");
        for (String k : same != null ? same : got.keySet()) {
          if (k.equals(base)) {
            continue;
          }
          assertTrue(
              bitwiseEqual(got.get(base), got.get(k)),
              at
                  + ": "
                  + k
                  + " differs from "
                  + base
                  + " by "
                  + maxAbsDiff(got.get(base), got.get(k)));
          if (minEffect > 0) {
            assertTrue(
                maxAbsDiff(run.expected().get(k), run.expected().get(base)) > minEffect,
                at + ": " + k + " is vacuous");
          }
        }
      }
    }
    assertThrows(
        AssertionError.class,
        () -> check(c, label + " (defaulted)", cmod, weights, c.dir(), dropped),
        label + ": the fresh model matches the trained outputs");
  }

  /** Prints and returns {max abs error, max relative error} (relative to max(|expected|, 1e-3)). */
  private static double[] report(String tag, String what, Tensor expected, Tensor actual) {
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
    System.out.printf(
        Locale.ROOT,
        "%s %-80s max|err| %.2e  max rel %.2e  max|y| %.2f%n",
        tag,
        what,
        abs,
        rel,
        scale);
    return new double[] {abs, rel};
  }

  // ---------------------------------------------------------------------------------------------
  // compiling and comparing

  /** Compiles or fails the test with the rendered diagnostics. */
  public static Compilation.Result compile(
      Path cmod, Path weights, long seed, int level, String at) {
    Compilation.Result r =
        Compilation.compile(
            cmod,
            CompileOptions.defaults().withWeightsFile(weights).withSeed(seed).withOptLevel(level));
    assertTrue(r.ok(), at + ": compilation failed:\n" + render(r));
    return r;
  }

  /**
   * Writes {@code source} to {@code dir/name} and compiles it at -O0 without weights; the result,
   * errors and all.
   */
  public static Compilation.Result compileSource(Path dir, String name, String source) {
    try {
      Path f = dir.resolve(name);
      Files.writeString(f, source);
      return Compilation.compile(f, CompileOptions.defaults().withOptLevel(0));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The diagnostics, rendered for people. */
  public static String render(Compilation.Result r) {
    return r.diagnostics().all().stream()
        .map(DiagnosticRenderer::human)
        .collect(Collectors.joining());
  }

  /** ONNX Runtime outputs of {@code cmod} compiled with the given weights, seed and level. */
  public static Map<String, Tensor> outputs(
      Path cmod, Path weights, long seed, int level, Map<String, Tensor> inputs) {
    Compilation.Result r = compile(cmod, weights, seed, level, cmod.getFileName() + " -O" + level);
    return E2E.runOrt(Toolchain.emit(r.graph()), inputs);
  }

  /**
   * compile → {@code cmod export-weights --seed 3} into {@code w} → compile with {@code --weights
   * w} under {@code --seed 11}: the exported keys are the graph's parameter paths, no parameter is
   * defaulted and every output is bit for bit that of seed 3 at every level, while seed 11 without
   * weights moves some output by more than {@code seedEps} (else the round trip proves nothing).
   * Returns the -O0 compilation under seed 3.
   */
  public static Compilation.Result assertRoundTrip(String name, Path cmod, Path w, double seedEps) {
    assertEquals(
        0,
        Main.execute("export-weights", cmod.toString(), "-o", w.toString(), "--seed", "3"),
        name + ": export-weights");
    Map<String, Tensor> exported = Safetensors.read(w);
    Compilation.Result r0 = compile(cmod, null, 3, 0, name);
    assertEquals(
        paramPaths(r0.graph()), new TreeSet<>(exported.keySet()), name + ": exported keys");
    E2E.Built b = E2E.compileFile(cmod, CompileOptions.defaults().withSeed(3).withOptLevel(0));
    Map<String, Tensor> in = E2E.inputs(b, Map.of("batch", 2L, "seq", 5L), 42);
    for (int level : LEVELS) {
      String at = name + " -O" + level;
      Compilation.Result again = compile(cmod, w, 11, level, at);
      assertTrue(
          again.facts().defaulted().isEmpty(), at + ": defaulted " + again.facts().defaulted());
      Map<String, Tensor> want = outputs(cmod, null, 3, level, in);
      Map<String, Tensor> got = outputs(cmod, w, 11, level, in);
      Map<String, Tensor> other = outputs(cmod, null, 11, level, in);
      assertEquals(want.keySet(), got.keySet());
      boolean seedMatters = false;
      for (String k : want.keySet()) {
        assertTrue(
            bitwiseEqual(want.get(k), got.get(k)),
            at + " output " + k + ": differs by " + maxAbsDiff(want.get(k), got.get(k)));
        seedMatters |= maxAbsDiff(want.get(k), other.get(k)) > seedEps;
      }
      assertTrue(
          seedMatters,
          at
              + ": --seed 11 without weights gives the seed-3 outputs: the round trip proves nothing");
    }
    return r0;
  }

  /** The paths of the graph's parameters. */
  public static TreeSet<String> paramPaths(Graph g) {
    TreeSet<String> out = new TreeSet<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        out.add(n.attrs().getString("path"));
      }
    }
    return out;
  }

  /** Parameter values by path (at -O0 these are the declared parameters). */
  public static Map<String, Tensor> paramValues(Graph g) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        out.put(n.attrs().getString("path"), n.attrs().getTensor("value"));
      }
    }
    return out;
  }

  /**
   * Writes {@code caseDir}'s weights without the keys {@code drop} accepts into {@code file};
   * returns the dropped keys.
   */
  public static Set<String> writeWithout(Path caseDir, Predicate<String> drop, Path file) {
    Map<String, Tensor> w = new TreeMap<>(Safetensors.read(caseDir.resolve("weights.safetensors")));
    TreeSet<String> dropped = new TreeSet<>();
    w.keySet()
        .removeIf(
            k -> {
              boolean d = drop.test(k);
              if (d) {
                dropped.add(k);
              }
              return d;
            });
    Safetensors.write(file, w, null);
    return dropped;
  }

  /**
   * Same shape, dtype and bits; a NaN is never equal (two NaN outputs are two failures, not a
   * match).
   */
  public static boolean bitwiseEqual(Tensor a, Tensor b) {
    if (!Arrays.equals(a.shape(), b.shape()) || a.dtype() != b.dtype()) {
      return false;
    }
    if (a.isFloat()) {
      for (int i = 0; i < a.size(); i++) {
        if (Double.isNaN(a.get(i)) || Double.isNaN(b.get(i))) {
          return false;
        }
      }
    }
    return a.isFloat()
        ? Arrays.equals(a.floats(), b.floats())
        : Arrays.equals(a.longs(), b.longs());
  }

  /**
   * max |a - b| of two tensors of one shape (asserted); NaN where either holds a NaN, so that both
   * {@code maxAbsDiff(..) < eps} and {@code maxAbsDiff(..) > eps} are false for it.
   */
  public static double maxAbsDiff(Tensor a, Tensor b) {
    assertTrue(
        Arrays.equals(a.shape(), b.shape()),
        "shapes " + Arrays.toString(a.shape()) + " vs " + Arrays.toString(b.shape()));
    double m = 0;
    for (int i = 0; i < a.size(); i++) {
      m = Math.max(m, Math.abs(a.get(i) - b.get(i)));
    }
    return m;
  }

  /** max |t|. */
  public static double maxAbs(Tensor t) {
    double m = 0;
    for (int i = 0; i < t.size(); i++) {
      m = Math.max(m, Math.abs(t.get(i)));
    }
    return m;
  }

  /** The shape as a list (for assertEquals). */
  public static List<Long> shape(Tensor t) {
    return Arrays.stream(t.shape()).boxed().toList();
  }
}
