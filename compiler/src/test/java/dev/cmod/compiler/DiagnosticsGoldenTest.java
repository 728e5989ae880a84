package dev.cmod.compiler;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticRenderer;
import dev.cmod.compiler.sema.CompileOptions;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden tests of the human-readable diagnostics: every {@code NAME.cmod} in {@code
 * src/test/resources/diagnostics} is a bad program; compiling it must not throw, must fail, and
 * must render exactly {@code NAME.expected}. Files in sub-folders (helpers/) are only imported by
 * the cases, never compiled as cases themselves.
 *
 * <p>Run with {@code -Dcmod.updateGolden=true} to rewrite the expected files from the current
 * output (then review the diff: an expected file states what a user SHOULD see, not what the
 * compiler happens to print).
 */
class DiagnosticsGoldenTest {
  static final Path DIR = Path.of("src", "test", "resources", "diagnostics");
  static final boolean UPDATE = Boolean.getBoolean("cmod.updateGolden");

  @BeforeAll
  static void stdlib() {
    TestStdlib.ensure();
  }

  static List<String> cases() throws IOException {
    try (Stream<Path> s = Files.list(DIR)) {
      return s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".cmod"))
          .map(p -> p.getFileName().toString())
          .sorted()
          .toList();
    }
  }

  static List<Path> helpers() throws IOException {
    try (Stream<Path> s = Files.walk(DIR)) {
      return s.filter(
              p ->
                  Files.isRegularFile(p)
                      && p.toString().endsWith(".cmod")
                      && !p.getParent().equals(DIR))
          .sorted()
          .toList();
    }
  }

  /** The rendered diagnostics with the folder of the cases removed from file names and paths. */
  static String render(Compilation.Result r) {
    StringBuilder sb = new StringBuilder();
    for (Diagnostic d : r.diagnostics().all()) {
      sb.append(DiagnosticRenderer.human(d));
    }
    String out = sb.toString();
    Path abs = DIR.toAbsolutePath().normalize();
    Path rel = Path.of("").toAbsolutePath().relativize(abs);
    for (String prefix : List.of(abs.toString(), rel.toString())) {
      out = out.replace(prefix + File.separator, "");
      if (!File.separator.equals("/")) {
        out = out.replace(prefix.replace(File.separatorChar, '/') + "/", "");
      }
    }
    return out;
  }

  static Compilation.Result compile(Path file) {
    return assertDoesNotThrow(
        () -> Compilation.compile(file, CompileOptions.defaults()), "compiling " + file + " threw");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesGolden(String name) throws IOException {
    Path file = DIR.resolve(name);
    Compilation.Result r = compile(file);
    String actual = render(r);
    Path expectedFile =
        DIR.resolve(name.substring(0, name.length() - ".cmod".length()) + ".expected");
    if (UPDATE) {
      Files.writeString(expectedFile, actual);
      return;
    }
    assertTrue(
        Files.exists(expectedFile),
        "missing " + expectedFile + " (run with -Dcmod.updateGolden=true)");
    String expected = Files.readString(expectedFile).replace("\r\n", "\n");
    assertEquals(expected, actual, "diagnostics of " + name);
    assertFalse(r.ok(), name + " is a bad program but compiled");
    assertTrue(r.diagnostics().hasErrors(), name + " must report an error");
  }

  @Test
  void atLeastThirtyCases() throws IOException {
    assertTrue(cases().size() >= 30, "only " + cases().size() + " golden cases");
  }

  @Test
  void everyExpectedFileHasItsProgram() throws IOException {
    List<String> orphans = new ArrayList<>();
    try (Stream<Path> s = Files.list(DIR)) {
      for (Path p : s.filter(p -> p.toString().endsWith(".expected")).toList()) {
        String base = p.getFileName().toString().replace(".expected", ".cmod");
        if (!Files.exists(DIR.resolve(base))) {
          orphans.add(p.getFileName().toString());
        }
      }
    }
    assertEquals(List.of(), orphans, "expected files without a .cmod program");
  }

  /** The helper files are not cases, but compiling them directly must not throw either. */
  @Test
  void helpersCompileWithoutThrowing() throws IOException {
    for (Path h : helpers()) {
      compile(h);
    }
  }

  /** The same program compiled twice gives the same diagnostics (no hidden state, stable order). */
  @Test
  void deterministic() throws IOException {
    for (String name : List.of("two_errors.cmod", "syntax_two_errors.cmod", "import_cycle.cmod")) {
      Path file = DIR.resolve(name);
      assertEquals(render(compile(file)), render(compile(file)), name);
    }
  }
}
