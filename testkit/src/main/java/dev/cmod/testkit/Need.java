package dev.cmod.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.opentest4j.TestAbortedException;

/**
 * Something outside the repository that some tests need: PyTorch, SciPy and the ONNX checker in
 * Debian's Python, Debian's ONNX backend node tests, the shared corpora beside the checkout.
 *
 * <p>{@link #require()} is the one way a test depends on one of them. Where it is missing the test
 * is skipped with the reason (reported by {@link SkipReport}), except in CI ({@link #ci()}:
 * environment {@code CMOD_CI=1} or {@code -Dcmod.ci=true}), where a missing need fails the test: CI
 * installs all of them, so a skip there would hide a broken setup. Classes whose {@code @BeforeAll}
 * needs one are annotated {@link Requires}, which turns the missing need into per-test skips
 * instead of a silently empty class.
 *
 * <p>Every location is relative to the project root or overridable: {@code -Dcmod.python} / {@code
 * CMOD_PYTHON} (default {@code /usr/bin/python3}, Debian's, which has the packages), {@code
 * -Dcmod.parity.python} (the Python with torch, default the former), {@code -Dcmod.onnx.testdata} /
 * {@code CMOD_ONNX_TESTDATA} (default the Debian package's {@code
 * /usr/share/libonnx-testdata/data/node}), {@code -Dcmod.corpora} / {@code CMOD_CORPORA} (default
 * {@code ../shared/corpora} from the project root), {@code -Dcmod.models} / {@code CMOD_MODELS}
 * (default {@code samples/real/models}, where {@code scripts/fetch-models.sh} puts what it
 * fetches).
 *
 * <p>It lives in the {@code testkit} module, which every module's tests depend on (test scope).
 */
public enum Need {
  TORCH("python3-torch") {
    @Override
    String problem() {
      return pythonProblem(
          torchPython(),
          "torch, numpy",
          "install python3-torch python3-numpy, or point -Dcmod.parity.python at a Python that has them");
    }
  },
  TORCHVISION("python3-torchvision") {
    @Override
    String problem() {
      return pythonProblem(
          torchPython(),
          "torch, torchvision, onnx",
          "install python3-torchvision python3-onnx, or point -Dcmod.parity.python at a Python that"
              + " has them");
    }
  },
  PIL("python3-pil") {
    @Override
    String problem() {
      return pythonProblem(
          python(),
          "PIL, numpy",
          "install python3-pil python3-numpy, or point -Dcmod.python at a Python that has them");
    }
  },
  SCIPY("python3-scipy") {
    @Override
    String problem() {
      return pythonProblem(
          python(),
          "scipy.signal, numpy",
          "install python3-scipy python3-numpy, or point -Dcmod.python at a Python that has them");
    }
  },
  PYTHON_ONNX("python3-onnx") {
    @Override
    String problem() {
      return pythonProblem(
          python(), "onnx", "install python3-onnx, or point -Dcmod.python at a Python that has it");
    }
  },
  ONNX_TESTDATA("libonnx-testdata") {
    @Override
    String problem() {
      Path d = onnxTestData();
      return Files.isDirectory(d)
          ? null
          : "the ONNX backend node tests are not at "
              + d
              + " (install libonnx-testdata, or set -Dcmod.onnx.testdata / CMOD_ONNX_TESTDATA)";
    }
  },
  CORPORA("the shared corpora") {
    @Override
    String problem() {
      Path d = corpora();
      return Files.isDirectory(d)
          ? null
          : "no folder "
              + d
              + " (the shared corpora belong beside the checkout, at ../shared/corpora; or set -Dcmod.corpora / CMOD_CORPORA)";
    }
  },
  FETCHED_MODELS("the models of scripts/fetch-models.sh") {
    @Override
    String problem() {
      Path d = fetchedModels();
      return Files.isDirectory(d)
          ? null
          : "no folder "
              + d
              + " (run bash scripts/fetch-models.sh, or set -Dcmod.models / CMOD_MODELS)";
    }
  };

  private final String what;
  private volatile String problem;
  private volatile boolean checked;

  Need(String what) {
    this.what = what;
  }

  /** Why the need is not met, or null when it is. */
  abstract String problem();

  /** The package or thing, as a person would install or fetch it. */
  public String what() {
    return what;
  }

  /** Whether the need is met (checked once per JVM). */
  public boolean available() {
    return cachedProblem() == null;
  }

  /** Why it is missing (null when it is not). */
  public String reason() {
    String p = cachedProblem();
    return p == null ? null : "needs " + what + ": " + p;
  }

  private synchronized String cachedProblem() {
    if (!checked) {
      problem = problem();
      checked = true;
    }
    return problem;
  }

  /** Returns when the need is met; otherwise skips the test, or fails it in CI. */
  public void require() {
    String p = cachedProblem();
    if (p != null) {
      missing(this, p);
    }
  }

  /**
   * Skips (outside CI) or fails (in CI) because {@code need} is missing for the reason {@code
   * problem}.
   */
  static void missing(Need need, String problem) {
    if (ci()) {
      fail("CI requires " + need.what + ": " + problem);
    }
    throw new Missing(need, "needs " + need.what + ": " + problem);
  }

  /** The abort of a test (or {@code @BeforeAll}) because a need is missing. */
  public static final class Missing extends TestAbortedException {
    private static final long serialVersionUID = 1L;
    private final transient Need need;

    Missing(Need need, String message) {
      super(message);
      this.need = need;
    }

    public Need need() {
      return need;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // the environment

  /** Whether this is a CI run: {@code CMOD_CI} set to 1/true/yes, or {@code -Dcmod.ci=true}. */
  public static boolean ci() {
    return truthy(System.getProperty("cmod.ci")) || truthy(System.getenv("CMOD_CI"));
  }

  private static boolean truthy(String s) {
    return s != null
        && switch (s.trim().toLowerCase(Locale.ROOT)) {
          case "1", "true", "yes", "on" -> true;
          default -> false;
        };
  }

  private static String setting(String property, String env) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = env == null ? null : System.getenv(env);
    }
    return v == null || v.isBlank() ? null : v;
  }

  /**
   * The project root: {@code -Dcmod.root} when set (samples' surefire sets it), else the working
   * folder; then the nearest folder at or above it that holds the parent pom (pom.xml beside
   * backend-onnx/).
   */
  public static Path root() {
    String p = System.getProperty("cmod.root");
    Path start = (p != null ? Path.of(p) : Path.of("")).toAbsolutePath().normalize();
    for (Path at = start; at != null; at = at.getParent()) {
      if (Files.isRegularFile(at.resolve("pom.xml"))
          && Files.isDirectory(at.resolve("backend-onnx"))) {
        return at;
      }
    }
    return start;
  }

  /** The Python with Debian's packages (python3-onnx, python3-torch). */
  public static String python() {
    String p = setting("cmod.python", "CMOD_PYTHON");
    return p != null ? p : "/usr/bin/python3";
  }

  /** The Python the PyTorch parity scripts run with. */
  /**
   * Runs {@code script} with {@link #python()} in {@code dir} and returns its output; a failure of
   * the script is an AssertionError with that output.
   */
  public static String runPython(Path dir, String script)
      throws java.io.IOException, InterruptedException {
    Process p =
        new ProcessBuilder(python(), "-c", script)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new AssertionError("the Python script failed:\n" + out);
    }
    return out;
  }

  public static String torchPython() {
    String p = setting("cmod.parity.python", null);
    return p != null ? p : python();
  }

  /**
   * The node-test folder of the ONNX backend tests (one folder per test, each with a model.onnx).
   */
  /**
   * The node tests of {@link #onnxTestData()}: each folder with a {@code model.onnx} and a {@code
   * test_data_set_0}, sorted by name.
   */
  public static java.util.List<Path> onnxNodeTests() throws java.io.IOException {
    try (java.util.stream.Stream<Path> s = Files.list(onnxTestData())) {
      return s.filter(
              p ->
                  Files.isRegularFile(p.resolve("model.onnx"))
                      && Files.isDirectory(p.resolve("test_data_set_0")))
          .sorted()
          .toList();
    }
  }

  public static Path onnxTestData() {
    String p = setting("cmod.onnx.testdata", "CMOD_ONNX_TESTDATA");
    return Path.of(p != null ? p : "/usr/share/libonnx-testdata/data/node")
        .toAbsolutePath()
        .normalize();
  }

  /** The shared corpora: {@code ../shared/corpora} from the project root unless overridden. */
  public static Path corpora() {
    String p = setting("cmod.corpora", "CMOD_CORPORA");
    return (p != null ? Path.of(p) : root().resolve("../shared/corpora"))
        .toAbsolutePath()
        .normalize();
  }

  /** A file of the shared corpora; skips the test (fails it in CI) when it is not there. */
  public static Path corpus(String relative) {
    CORPORA.require();
    Path f = corpora().resolve(relative);
    if (!Files.isRegularFile(f)) {
      missing(CORPORA, "the corpora at " + corpora() + " have no " + relative);
    }
    return f;
  }

  /**
   * Where {@code scripts/fetch-models.sh} puts the pretrained models the samples in {@code
   * samples/real/} import: {@code samples/real/models} of the project root unless overridden.
   */
  public static Path fetchedModels() {
    String p = setting("cmod.models", "CMOD_MODELS");
    return (p != null ? Path.of(p) : root().resolve("samples/real/models"))
        .toAbsolutePath()
        .normalize();
  }

  /**
   * A model fetched by {@code scripts/fetch-models.sh}; skips the test (fails it in CI) when it is
   * not there.
   */
  public static Path fetched(String name) {
    FETCHED_MODELS.require();
    Path f = fetchedModels().resolve(name);
    if (!Files.isRegularFile(f)) {
      missing(
          FETCHED_MODELS,
          fetchedModels() + " has no " + name + " (run bash scripts/fetch-models.sh)");
    }
    return f;
  }

  private static String pythonProblem(String python, String modules, String hint) {
    try {
      Process pr =
          new ProcessBuilder(python, "-c", "import " + modules).redirectErrorStream(true).start();
      byte[] out = pr.getInputStream().readAllBytes();
      if (!pr.waitFor(120, TimeUnit.SECONDS)) {
        pr.destroyForcibly();
        return python + " -c 'import " + modules + "' timed out; " + hint;
      }
      if (pr.exitValue() == 0) {
        return null;
      }
      String log = new String(out, StandardCharsets.UTF_8).strip();
      String last = log.isEmpty() ? "" : log.substring(log.lastIndexOf('\n') + 1);
      return python
          + " cannot import "
          + modules
          + " (exit "
          + pr.exitValue()
          + (last.isEmpty() ? "" : ": " + last)
          + "); "
          + hint;
    } catch (IOException e) {
      return "cannot run " + python + " (" + e.getMessage() + "); " + hint;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted while checking " + python + "; " + hint;
    }
  }
}
