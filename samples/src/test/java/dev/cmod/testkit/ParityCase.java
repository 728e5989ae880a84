package dev.cmod.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * One case of the PyTorch parity corpus, {@code src/test/resources/pytorch-parity.cases} (its
 * header describes the fields): a program, the reference that computes its expected outputs, and
 * how to compare. The corpus is data so that a new parity check is a block in that file rather than
 * another test class; the tests that look closer at a case's parameters or at a fresh composition
 * read the same case, and its reference data, through {@link #named}.
 *
 * <p>The references are generated once per test JVM, one script run for all the cases of a script,
 * into a temporary folder removed at exit.
 */
public record ParityCase(
    String name,
    String script,
    String reference,
    String source,
    List<String> edit,
    String model,
    List<String> runs,
    List<String> outputs,
    Set<String> params,
    List<Integer> levels,
    double rtol,
    double atol,
    boolean interpreter,
    List<String> mutate,
    boolean mismatch) {

  private static final String CORPUS = "/pytorch-parity.cases";
  private static final Map<String, ParityCase> ALL = load();
  private static final Map<String, Path> GENERATED = new HashMap<>();
  private static Path scratch;

  /** Every case of the corpus, in file order. */
  public static List<ParityCase> all() {
    return List.copyOf(ALL.values());
  }

  /** The case called {@code name}. */
  public static ParityCase named(String name) {
    ParityCase c = ALL.get(name);
    assertNotNull(c, "no case [" + name + "] in " + CORPUS);
    return c;
  }

  @Override
  public String toString() {
    return name;
  }

  /** The prefix of the deviation lines in the test log: the script's name without "_parity.py". */
  public String tag() {
    return script.replace("_parity.py", "").replace(".py", "");
  }

  /** The folder the reference wrote: the weights, inputs and PyTorch's outputs of every run. */
  public Path dir() {
    return generated(script).resolve(reference);
  }

  /** The program: the resource or sample, with the case's edit applied (in a scratch copy). */
  public Path program() {
    Path file =
        source.startsWith("samples/") ? PyParity.root().resolve(source) : PyParity.resource(source);
    assertTrue(Files.isRegularFile(file), "missing program " + file);
    if (edit.isEmpty()) {
      return file;
    }
    try {
      String text = Files.readString(file);
      assertTrue(
          text.contains(edit.get(0)), name + ": " + source + " no longer holds " + edit.get(0));
      Path f = scratch().resolve("programs/" + name + ".cmod");
      Files.createDirectories(f.getParent());
      Files.writeString(f, text.replace(edit.get(0), edit.get(1)));
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The parameters the program declares, by path: compiled at -O0 without weights, seed 0. */
  public Map<String, Tensor> declared() {
    return PyParity.paramValues(PyParity.compile(program(), null, 0, 0, name).graph());
  }

  /**
   * The corpus check: the reference's runs are the ones this case declares, and the program
   * compiled with the reference's weights (mutated if the case says so) matches PyTorch, or for a
   * negative control fails to.
   */
  public void check() {
    Path data = dir();
    List<String> got = new ArrayList<>();
    for (PyParity.Run r : PyParity.runs(data)) {
      got.add(r.signature());
      assertEquals(
          outputs, List.copyOf(r.expected().keySet()), name + ": outputs of " + r.describe());
    }
    assertEquals(runs, got, name + ": the inputs of the reference's runs");
    if (!mutate.isEmpty()) {
      data = mutated(data);
    }
    Path weights = data.resolve("weights.safetensors");
    Path cmod = program();
    Path at = data;
    if (mismatch) {
      AssertionError e =
          assertThrows(
              AssertionError.class,
              () -> PyParity.check(this, name, cmod, weights, at, Set.of()),
              name + ": a negative control passed");
      assertTrue(
          e.getMessage().contains(": element "),
          name + ": must fail in the comparison with PyTorch, failed with: " + e.getMessage());
    } else {
      PyParity.check(this, name, cmod, weights, at, Set.of());
    }
  }

  /** The runs of {@code from} with its weights changed as {@link #mutate} says, in a new folder. */
  private Path mutated(Path from) {
    try {
      Path to = scratch().resolve("mutated/" + name);
      PyParity.copyRuns(from, to);
      Map<String, Tensor> w = new TreeMap<>(Safetensors.read(from.resolve("weights.safetensors")));
      List<String> m = mutate;
      if (!m.get(0).equals("swap-infix")) {
        for (String key : m.subList(1, m.size())) {
          assertTrue(w.containsKey(key), name + ": no weight " + key + " to " + m.get(0));
        }
      }
      switch (m.get(0)) {
        case "transpose" -> w.put(m.get(1), transpose(w.get(m.get(1))));
        case "swap" -> {
          Tensor a = w.get(m.get(1));
          w.put(m.get(1), w.get(m.get(2)));
          w.put(m.get(2), a);
        }
        case "swap-infix" -> {
          Map<String, Tensor> swapped = new TreeMap<>();
          w.forEach(
              (k, v) ->
                  swapped.put(
                      k.contains(m.get(1))
                          ? k.replace(m.get(1), m.get(2))
                          : k.contains(m.get(2)) ? k.replace(m.get(2), m.get(1)) : k,
                      v));
          assertTrue(
              w.keySet().stream().anyMatch(k -> k.contains(m.get(1)))
                  && w.keySet().stream().anyMatch(k -> k.contains(m.get(2))),
              name + ": the weights must hold both " + m.get(1) + " and " + m.get(2));
          w = swapped;
        }
        default -> throw new AssertionError(name + ": unknown mutation " + m);
      }
      Safetensors.write(to.resolve("weights.safetensors"), w, null);
      return to;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Tensor transpose(Tensor t) {
    int n = (int) t.dim(0);
    int m = (int) t.dim(1);
    float[] src = t.floats();
    float[] dst = new float[src.length];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        dst[j * n + i] = src[i * m + j];
      }
    }
    return Tensor.ofFloats(new long[] {m, n}, dst);
  }

  // ---------------------------------------------------------------------------------------------
  // the references, generated on first use

  private static synchronized Path generated(String script) {
    Path out = GENERATED.get(script);
    if (out == null) {
      out = scratch().resolve("references/" + script);
      Set<String> references = new LinkedHashSet<>();
      for (ParityCase c : ALL.values()) {
        if (c.script.equals(script)) {
          references.add(c.reference);
        }
      }
      PyParity.generate(script, out, references);
      GENERATED.put(script, out);
    }
    return out;
  }

  private static synchronized Path scratch() {
    if (scratch == null) {
      try {
        scratch = Files.createTempDirectory("cmod-parity");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Path dir = scratch;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
    }
    return scratch;
  }

  private static void delete(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temporary folder left behind; nothing to report at exit
    }
  }

  // ---------------------------------------------------------------------------------------------
  // the corpus file

  private static Map<String, ParityCase> load() {
    Map<String, Map<String, List<String>>> blocks = CaseFile.read(CORPUS);
    Map<String, List<String>> defaults = blocks.remove("defaults");
    Map<String, ParityCase> cases = new LinkedHashMap<>();
    blocks.forEach((name, b) -> cases.put(name, parse(name, b, defaults)));
    return cases;
  }

  private static ParityCase parse(
      String name, Map<String, List<String>> b, Map<String, List<String>> defaults) {
    Map<String, List<String>> f = new HashMap<>(defaults);
    f.putAll(b);
    Set<String> known =
        Set.of(
            "reference",
            "program",
            "edit",
            "model",
            "run",
            "outputs",
            "params",
            "levels",
            "rtol",
            "atol",
            "interpreter",
            "mutate",
            "expect");
    for (String k : b.keySet()) {
      if (!known.contains(k)) {
        throw new IllegalStateException(CORPUS + " [" + name + "]: unknown key " + k);
      }
    }
    List<String> ref = words(one(name, f, "reference"));
    String edit = f.containsKey("edit") ? one(name, f, "edit") : null;
    List<String> edits = edit == null ? List.of() : List.of(edit.split(" => ", 2));
    if (edit != null && edits.size() != 2) {
      throw new IllegalStateException(CORPUS + " [" + name + "]: edit is OLD => NEW");
    }
    String expect = one(name, f, "expect");
    if (!expect.equals("match") && !expect.equals("mismatch")) {
      throw new IllegalStateException(CORPUS + " [" + name + "]: expect is match or mismatch");
    }
    return new ParityCase(
        name,
        ref.get(0),
        ref.get(1),
        one(name, f, "program"),
        edits,
        one(name, f, "model"),
        List.copyOf(f.getOrDefault("run", List.of())),
        words(one(name, f, "outputs")),
        f.containsKey("params") ? Set.copyOf(words(one(name, f, "params"))) : null,
        words(one(name, f, "levels")).stream().map(Integer::valueOf).toList(),
        Double.parseDouble(one(name, f, "rtol")),
        Double.parseDouble(one(name, f, "atol")),
        one(name, f, "interpreter").equals("yes"),
        f.containsKey("mutate") ? words(one(name, f, "mutate")) : List.of(),
        expect.equals("mismatch"));
  }

  private static String one(String name, Map<String, List<String>> f, String key) {
    List<String> v = f.get(key);
    if (v == null || v.size() != 1) {
      throw new IllegalStateException(CORPUS + " [" + name + "]: needs one " + key);
    }
    return v.get(0);
  }

  private static List<String> words(String s) {
    return Arrays.asList(s.trim().split("\\s+"));
  }
}
