package dev.cmod.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds {@code cmod} one class of bad input after another through {@code Main.execute} and checks
 * the promise of the reliability issue for each case: a clean exit (1, or 2 for usage), at least
 * one {@code error[CMxxxx]} diagnostic, a source location for errors in a program, no stack trace
 * or exception text, no CM0900 "internal compiler error", no file left behind (no partial artifact,
 * nothing new in the case's folder or the working directory), and an end within the time limit. The
 * measured table (exit codes, diagnostic codes, located cases, time) is written to {@code
 * target/reliability/results.md}; {@code docs/reliability.md} quotes it.
 *
 * <p>With {@code -Dcmod.reliability.full=true} (what {@code scripts/reliability.sh} passes) it also
 * runs the memory cases in child JVMs with a 1 GiB heap (a safetensors file whose entries share
 * their bytes, a model whose parameters total 4 GiB, a routing gate that escapes the per-parameter
 * limit) and the external-data case from a different working directory. Those cases record what
 * happens; known findings are marked in the table and not asserted (see FindingsTest).
 */
class ReliabilityTest {
  private static final Pattern CODE = Pattern.compile("error\\[(CM\\d{4})]");
  private static final Pattern LOCATED = Pattern.compile("(?m)^\\S+\\.cmod:\\d+:\\d+: error\\[CM");

  @TempDir Path root;

  private final List<Result> results = new ArrayList<>();

  /** One case's outcome. */
  record Result(
      String kind,
      String name,
      int exit,
      Set<String> codes,
      boolean located,
      boolean needLocation,
      long millis,
      List<String> problems,
      String note,
      String firstError) {}

  private static final Pattern ERROR_LINE =
      Pattern.compile("(?m)(?:^|: )(error(?:\\[CM\\d{4}])?: .*)$");

  /** The first error message line without its location, shortened: what the user reads first. */
  private static String firstError(Cli.Run r) {
    Matcher m = ERROR_LINE.matcher(r.err());
    if (!m.find()) {
      return "";
    }
    // drop the test's @TempDir, wherever java.io.tmpdir is
    String t =
        m.group(1)
            .replaceAll("\\s+", " ")
            .replaceAll("[^\\s:'\"]*/junit-?\\d+/[^/]+/(?:case/)?", "");
    return t.length() > 110 ? t.substring(0, 107) + "..." : t;
  }

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text, StandardCharsets.UTF_8);
    return p;
  }

  private Path write(String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.write(p, bytes);
    return p;
  }

  private static Set<String> listing(Path d) throws IOException {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> s = Files.walk(d)) {
      s.forEach(p -> out.add(d.relativize(p).toString()));
    }
    return out;
  }

  private interface Setup {
    String[] args() throws Exception;
  }

  /**
   * What a case must show beyond the common promise: {@code code}, a diagnostic code it must carry
   * (null: any); {@code okAllowed}, exit 0 is acceptable too (a case that must only end fast and
   * cleanly); {@code maxOutput}, the most characters it may print; {@code maxMillis}, its time
   * limit; {@code mustSay}, text the output must contain (null: none).
   */
  record Expect(String code, boolean okAllowed, int maxOutput, long maxMillis, String mustSay) {
    static Expect code(String c) {
      return new Expect(c, false, 200_000, CASE_MILLIS, null);
    }

    Expect saying(String text) {
      return new Expect(code, okAllowed, maxOutput, maxMillis, text);
    }

    Expect output(int max) {
      return new Expect(code, okAllowed, max, maxMillis, mustSay);
    }

    Expect within(long ms) {
      return new Expect(code, okAllowed, maxOutput, ms, mustSay);
    }

    Expect orSuccess() {
      return new Expect(code, true, maxOutput, maxMillis, mustSay);
    }
  }

  /** The time limit of one case (the issue's 5 s). */
  static final long CASE_MILLIS = 5_000;

  private static final Expect ANY = Expect.code(null);

  /** The case's folder, where its inputs and outputs are. */
  private Path dir;

  /** A sibling folder of {@code dir} with files of its own: nothing may appear or change there. */
  private Path outside;

  /** The parent of both, snapshotted before and after the case. */
  private Path caseRoot;

  private void newCase(String kind) throws IOException {
    caseRoot =
        Files.createDirectories(
            root.resolve(kind.replaceAll("[^A-Za-z0-9]+", "_") + "-" + results.size()));
    dir = Files.createDirectories(caseRoot.resolve("case"));
    outside = Files.createDirectories(caseRoot.resolve("outside"));
    Files.writeString(outside.resolve("keep.txt"), "not cmod's\n");
    Files.createDirectories(outside.resolve("sub"));
    Files.write(outside.resolve("sub/data.bin"), OnnxModels.floats(42, 42, 42, 42));
  }

  /**
   * Runs one case in a fresh folder; {@code needLocation}: the error is in a program, so it must
   * point into it.
   */
  private void run(String kind, String name, boolean needLocation, Setup setup) throws Exception {
    run(kind, name, needLocation, "", ANY, setup);
  }

  private void run(String kind, String name, boolean needLocation, Expect expect, Setup setup)
      throws Exception {
    run(kind, name, needLocation, "", expect, setup);
  }

  /**
   * As above, for a case that shows a reported finding ({@code finding}, e.g. "F6"): its outcome is
   * recorded and marked, but not asserted until the finding is fixed (see FindingsTest).
   */
  private void run(String kind, String name, boolean needLocation, String finding, Setup setup)
      throws Exception {
    run(kind, name, needLocation, finding, ANY, setup);
  }

  private void run(
      String kind, String name, boolean needLocation, String finding, Expect expect, Setup setup)
      throws Exception {
    newCase(kind);
    String[] args = setup.args();
    Map<String, String> before = Hostile.snapshot(caseRoot);
    Set<String> cwdBefore = cwdListing();
    Cli.Run r;
    boolean blocked;
    try (Hostile.Watchdog w = new Hostile.Watchdog(caseRoot, expect.maxMillis() + 1_000)) {
      r = Cli.inProcess(args);
      blocked = w.fired();
    }
    record(kind, name, needLocation, r, before, cwdBefore, finding, expect);
    if (blocked) {
      results.get(results.size() - 1).problems().add("blocked on a FIFO until the test opened it");
    }
  }

  private static Set<String> cwdListing() throws IOException {
    return listing(Path.of("").toAbsolutePath()).stream()
        .filter(p -> !p.startsWith("target"))
        .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
  }

  private void record(
      String kind,
      String name,
      boolean needLocation,
      Cli.Run r,
      Map<String, String> before,
      Set<String> cwdBefore,
      String note,
      Expect expect)
      throws IOException {
    Set<String> codes = new LinkedHashSet<>();
    Matcher m = CODE.matcher(r.all());
    while (m.find()) {
      codes.add(m.group(1));
    }
    boolean located = LOCATED.matcher(r.err()).find();
    List<String> problems = new ArrayList<>();
    boolean ok = r.exit() == 0 && expect.okAllowed();
    if (r.exit() != 1 && r.exit() != 2 && !ok) {
      problems.add("exit " + r.exit());
    }
    if (codes.isEmpty() && r.exit() != 2 && !ok) {
      problems.add("no diagnostic code");
    }
    if (expect.code() != null && !ok && !codes.contains(expect.code())) {
      problems.add("expected " + expect.code());
    }
    if (expect.mustSay() != null && !ok && !r.all().contains(expect.mustSay())) {
      problems.add("does not say '" + expect.mustSay() + "'");
    }
    if (codes.contains("CM0900")) {
      problems.add("CM0900 internal error");
    }
    if (needLocation && !located && !ok) {
      problems.add("no source location");
    }
    if (r.all().contains("\tat ")
        || r.all().contains("Exception in thread")
        || r.all().contains("Caused by:")) {
      problems.add("stack trace");
    }
    if (r.all().length() > expect.maxOutput()) {
      problems.add("printed " + r.all().length() + " chars (limit " + expect.maxOutput() + ")");
    }
    if (r.millis() > expect.maxMillis()) {
      problems.add(
          String.format(
              Locale.ROOT,
              "took %.1f s (limit %.1f s)",
              r.millis() / 1000.0,
              expect.maxMillis() / 1000.0));
    }
    List<String> changed = Hostile.diff(before, Hostile.snapshot(caseRoot));
    List<String> inCase = new ArrayList<>();
    List<String> outsideChanged = new ArrayList<>();
    for (String c : changed) {
      (c.substring(1).startsWith("case") ? inCase : outsideChanged).add(c);
    }
    if (!inCase.isEmpty() && !ok) {
      problems.add("left files " + inCase);
    }
    if (!outsideChanged.isEmpty()) {
      problems.add("changed outside the case folder " + outsideChanged);
    }
    if (cwdBefore != null) {
      Set<String> cwdAfter = cwdListing();
      cwdAfter.removeAll(cwdBefore);
      if (!cwdAfter.isEmpty()) {
        problems.add("wrote into the working directory " + cwdAfter);
      }
    }
    results.add(
        new Result(
            kind,
            name,
            r.exit(),
            codes,
            located,
            needLocation,
            r.millis(),
            problems,
            (note + (expect.okAllowed() ? " (exit 0 allowed)" : "")).trim(),
            firstError(r)));
  }

  // ---------------------------------------------------------------------------------------------

  private static final String MLP =
      """
      import std.nn.{Linear}
      model Mlp {
        input x: f32[4]
        let l1 = Linear(4, 8)
        output y: f32[3] = x |> l1 |> relu |> Linear(8, 3)
      }
      """;

  private String[] compile(String file, String text) throws IOException {
    Path src = write(file, text);
    return new String[] {"compile", src.toString(), "-o", dir.resolve("out.onnx").toString()};
  }

  private String[] compileNoOutputFlag(String file, String text) throws IOException {
    // without -o the ONNX file would go to the working directory: nothing may appear there
    return new String[] {"compile", write(file, text).toString()};
  }

  private Path goodModel() throws Exception {
    Path src = write("mlp.cmod", MLP);
    Path onnx = dir.resolve("mlp.onnx");
    Cli.Run r = Cli.inProcess("compile", src.toString(), "-o", onnx.toString());
    assertTrue(r.exit() == 0, r.all());
    return onnx;
  }

  private static byte[] npy(DType dt, long[] shape) {
    int n = Math.toIntExact(Tensor.numel(shape));
    return Npy.toBytes(
        dt.isFloat()
            ? Tensor.ofFloats(dt, shape, new float[n])
            : Tensor.ofLongs(dt, shape, new long[n]));
  }

  /**
   * y = x + w, x and w f32[4]; {@code w} given by the caller (initializer or sparse initializer).
   */
  @Test
  void everyClassOfBadInputEndsInADiagnosticAndACleanExit() throws Exception {
    // 1. syntax errors
    run(
        "syntax errors",
        "missing ')'",
        true,
        () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = relu(x\n}\n"));
    run(
        "syntax errors",
        "stray token",
        true,
        () -> compile("a.cmod", "model M {\n  input x: f32[4] ]\n  output y = x\n}\n"));
    run(
        "syntax errors",
        "incomplete pipe",
        true,
        () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = x |>\n}\n"));
    run(
        "syntax errors",
        "unterminated string",
        true,
        () -> compile("a.cmod", "import \"./b.cmod\nmodel M {}\n"));
    run(
        "syntax errors",
        "unterminated comment",
        true,
        () -> compile("a.cmod", "model M {\n  /* input x: f32[4]\n"));
    run(
        "syntax errors",
        "bad character",
        true,
        () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = x $ x\n}\n"));
    run(
        "syntax errors",
        "twenty errors in one file",
        true,
        () -> compile("a.cmod", "model M {\n" + "  let = = ;\n".repeat(30) + "}\n"));
    // 2. unknown names
    run(
        "unknown names",
        "misspelled module",
        true,
        () -> compile("a.cmod", MLP.replace("Linear(8, 3)", "Linaer(8, 3)")));
    run(
        "unknown names",
        "unknown builtin",
        true,
        () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = relux(x)\n}\n"));
    run(
        "unknown names",
        "not imported std module",
        true,
        () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = x |> Mlp(4)\n}\n"));
    run(
        "unknown names",
        "unknown std module",
        true,
        () -> compile("a.cmod", MLP.replace("{Linear}", "{Linear, Linearr}")));
    run(
        "unknown names",
        "unknown named argument",
        true,
        () ->
            compile(
                "a.cmod", "model M {\n  input x: f32[4]\n  output y = softmax(x, axes = 1)\n}\n"));
    run(
        "unknown names",
        "unknown model (--model)",
        false,
        () -> {
          String[] a = compile("a.cmod", MLP);
          return new String[] {a[0], a[1], a[2], a[3], "--model", "Mpl"};
        });
    // 3. shape and dtype mismatches
    run(
        "shape/dtype mismatches",
        "matmul inner dim",
        true,
        () ->
            compile(
                "a.cmod",
                "model M {\n  input x: f32[4]\n  param w: f32[5, 2]\n  output y = x @ w\n}\n"));
    run(
        "shape/dtype mismatches",
        "broadcast",
        true,
        () ->
            compile(
                "a.cmod",
                "model M {\n  input a: f32[4]\n  input b: f32[3]\n  output y = a + b\n}\n"));
    run(
        "shape/dtype mismatches",
        "output type",
        true,
        () -> compile("a.cmod", MLP.replace("f32[3] =", "f32[4] =")));
    run(
        "shape/dtype mismatches",
        "module argument",
        true,
        () -> compile("a.cmod", MLP.replace("Linear(8, 3)", "Linear(7, 3)")));
    run(
        "shape/dtype mismatches",
        "reshape count",
        true,
        () ->
            compile(
                "a.cmod",
                "model M {\n  input x: f32[4]\n  output y = reshape(x, [batch, 3])\n}\n"));
    run(
        "shape/dtype mismatches",
        "symbolic dims",
        true,
        () ->
            compile(
                "a.cmod",
                "model M {\n  input a: Seq[s, 4]\n  input b: Seq[t, 4]\n  output y = a + b\n}\n"));
    run(
        "shape/dtype mismatches",
        "exp of ids (i64)",
        true,
        () ->
            compile("a.cmod", "model M {\n  input t: Text[8] vocab 10\n  output y = exp(t)\n}\n"));
    run(
        "shape/dtype mismatches",
        "ids into Linear",
        true,
        () ->
            compile(
                "a.cmod",
                "import std.nn.{Linear}\nmodel M {\n  input t: Text[8] vocab 10\n  output y = t |> Linear(8, 2)\n}\n"));
    run(
        "shape/dtype mismatches",
        "where on floats",
        true,
        () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = where(x, x, x)\n}\n"));
    // 4. absurdly large parameter
    run(
        "absurdly large parameter",
        "param f32[100000, 100000]",
        true,
        () ->
            compile(
                "a.cmod",
                "model M {\n  input x: f32[100000]\n  param w: f32[100000, 100000]\n  output y = x @ w\n}\n"));
    run(
        "absurdly large parameter",
        "Linear(1000000, 1000000)",
        true,
        () ->
            compile(
                "a.cmod",
                "import std.nn.{Linear}\nmodel M {\n  input x: f32[1000000]\n  output y = x |> Linear(1000000, 1000000)\n}\n"));
    run(
        "absurdly large parameter",
        "dim 2^63-1",
        true,
        () ->
            compile(
                "a.cmod",
                "model M {\n  input x: f32[4]\n  param w: f32[9223372036854775807, 2]\n  output y = x\n}\n"));
    run(
        "absurdly large parameter",
        "dim 10^30 (literal overflow)",
        true,
        () ->
            compile(
                "a.cmod",
                "model M {\n  input x: f32[4]\n  param w: f32[1000000000000000000000000000000]\n  output y = x\n}\n"));
    run(
        "absurdly large parameter",
        "negative dim",
        true,
        () ->
            compile(
                "a.cmod",
                "model M {\n  input x: f32[4]\n  param w: f32[-4]\n  output y = x + w\n}\n"));
    run(
        "absurdly large parameter",
        "repeat(1000000000)",
        true,
        () ->
            compile(
                "a.cmod",
                "import std.nn.{Linear}\nmodel M {\n  input x: f32[4]\n  output y = x |> repeat(1000000000) Linear(4, 4)\n}\n"));
    run(
        "absurdly large parameter",
        "over the compute budget",
        true,
        () ->
            compile(
                "a.cmod",
                "import std.nn.{Linear}\nmodel M {\n  compute tiny\n  input x: f32[1024]\n  output y = x |> Linear(1024, 1024) |> Linear(1024, 1024)\n}\n"));
    run(
        "absurdly large parameter",
        "input f32[1T] run with random inputs",
        false,
        () ->
            new String[] {
              "run",
              write("a.cmod", "model M {\n  input x: f32[1T]\n  output y = relu(x)\n}\n").toString()
            });
    // 5. empty file
    run("empty file", "0 bytes", false, () -> compile("a.cmod", ""));
    run(
        "empty file",
        "only comments and blank lines",
        false,
        () -> compile("a.cmod", "// nothing\n\n/* here */\n"));
    run(
        "empty file",
        "only modules",
        false,
        () -> compile("a.cmod", "module Id(x: f32[...]) -> f32[...] {\n  x\n}\n"));
    // 6. binary garbage
    Random rnd = new Random(42);
    for (int i = 0; i < 3; i++) {
      byte[] junk = new byte[4096];
      rnd.nextBytes(junk);
      int k = i;
      run(
          "binary garbage",
          "4 KiB random bytes #" + k,
          false,
          () -> {
            Path p = write("junk" + k + ".cmod", junk);
            return new String[] {"compile", p.toString(), "-o", dir.resolve("out.onnx").toString()};
          });
    }
    run(
        "binary garbage",
        "PNG header",
        false,
        () -> {
          Path p =
              write(
                  "img.cmod",
                  new byte[] {
                    (byte) 0x89,
                    'P',
                    'N',
                    'G',
                    '\r',
                    '\n',
                    0x1a,
                    '\n',
                    0,
                    0,
                    0,
                    13,
                    'I',
                    'H',
                    'D',
                    'R'
                  });
          return new String[] {"compile", p.toString(), "-o", dir.resolve("out.onnx").toString()};
        });
    run(
        "binary garbage",
        "ASCII with NUL and control bytes",
        true,
        () ->
            compile(
                "a.cmod", "model M {\u0000\u0001\u0002\n  input x: f32[4]\n  output y = x\n}\n"));
    run(
        "binary garbage",
        "5 MiB source (over the 4 MiB limit)",
        false,
        () -> compile("big.cmod", "// " + "x".repeat(5 << 20) + "\n"));
    // 7. deep nesting
    run(
        "20 000 nested parentheses",
        "((((...x...))))",
        true,
        () ->
            compileNoOutputFlag(
                "deep.cmod",
                "model M {\n  input x: f32[4]\n  output y = "
                    + "(".repeat(20000)
                    + "x"
                    + ")".repeat(20000)
                    + "\n}\n"));
    run(
        "20 000 nested parentheses",
        "[[[[...]]]]",
        true,
        () ->
            compile(
                "deep.cmod",
                "model M {\n  input x: f32[4]\n  output y = "
                    + "[".repeat(20000)
                    + "x"
                    + "]".repeat(20000)
                    + "\n}\n"));
    run(
        "20 000 nested parentheses",
        "x + x + ... (20 000 terms, no brackets)",
        true,
        () ->
            compile(
                "deep.cmod",
                "model M {\n  input x: f32[4]\n  output y = x" + " + x".repeat(20000) + "\n}\n"));
    run(
        "20 000 nested parentheses",
        "x |> relu |> ... (20 000 stages)",
        true,
        () ->
            compile(
                "deep.cmod",
                "model M {\n  input x: f32[4]\n  output y = x"
                    + " |> relu".repeat(20000)
                    + "\n}\n"));
    run(
        "20 000 nested parentheses",
        "------x (20 000 unary minus)",
        true,
        () ->
            compile(
                "deep.cmod",
                "model M {\n  input x: f32[4]\n  output y = " + "-".repeat(20000) + "x\n}\n"));
    // 8. imports
    run(
        "import cycle",
        "a -> b -> a",
        true,
        () -> {
          write("b.cmod", "import \"./a.cmod\"\nconst B = 1\n");
          return compile(
              "a.cmod", "import \"./b.cmod\"\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n");
        });
    run(
        "import cycle",
        "self import",
        true,
        () ->
            compile(
                "a.cmod",
                "import \"./a.cmod\"\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n"));
    run(
        "import cycle",
        "missing import",
        true,
        () ->
            compile(
                "a.cmod",
                "import \"./nope.cmod\"\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n"));
    run(
        "import cycle",
        "33 files deep",
        true,
        () -> {
          for (int i = 1; i <= 34; i++) {
            write(
                "c" + i + ".cmod",
                "import \"./c" + (i + 1) + ".cmod\"\nconst K" + i + " = " + i + "\n");
          }
          return compile(
              "a.cmod", "import \"./c1.cmod\"\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n");
        });
    // 9. missing ONNX file
    run(
        "missing ONNX file",
        "cmod run nope.onnx",
        false,
        () -> new String[] {"run", dir.resolve("nope.onnx").toString()});
    run(
        "missing ONNX file",
        "import onnx \"nope.onnx\"",
        true,
        () ->
            compile(
                "a.cmod",
                "import onnx \"nope.onnx\" as Enc\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n"));
    run(
        "missing ONNX file",
        "a folder named m.onnx",
        false,
        () -> {
          Files.createDirectories(dir.resolve("m.onnx"));
          return new String[] {"run", dir.resolve("m.onnx").toString()};
        });
    // 10. hostile ONNX files
    run(
        "hostile ONNX file",
        "garbage bytes",
        false,
        () -> {
          byte[] junk = new byte[1000];
          new Random(7).nextBytes(junk);
          return new String[] {"run", write("junk.onnx", junk).toString()};
        });
    run(
        "hostile ONNX file",
        "empty file",
        false,
        () -> new String[] {"run", write("empty.onnx", new byte[0]).toString()});
    run(
        "hostile ONNX file",
        "truncated model",
        false,
        () -> {
          byte[] good = Files.readAllBytes(goodModel());
          return new String[] {
            "run", write("cut.onnx", Arrays.copyOf(good, good.length / 2)).toString()
          };
        });
    run(
        "hostile ONNX file",
        "external data '../secret.bin'",
        false,
        () -> {
          write("secret.bin", OnnxModels.floats(7, 7, 7, 7));
          return new String[] {
            "run",
            write(
                    "m/ext.onnx",
                    OnnxModels.addModel(OnnxModels.external("w", "../secret.bin"), null))
                .toString()
          };
        });
    run(
        "hostile ONNX file",
        "external data '/etc/passwd'",
        false,
        () ->
            new String[] {
              "run",
              write("ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "/etc/passwd"), null))
                  .toString()
            });
    run(
        "hostile ONNX file",
        "external data through a symlink",
        false,
        () -> {
          Path outside = write("outside.bin", OnnxModels.floats(7, 7, 7, 7));
          Files.createDirectories(dir.resolve("m"));
          Files.createSymbolicLink(dir.resolve("m/link.bin"), outside);
          return new String[] {
            "run",
            write("m/ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "link.bin"), null))
                .toString()
          };
        });
    run(
        "hostile ONNX file",
        "sparse initializer, external data '../secret.bin'",
        false,
        () -> {
          write("secret.bin", OnnxModels.floats(7, 7, 7, 7));
          SparseTensorProto sp =
              SparseTensorProto.newBuilder()
                  .addDims(4)
                  .setValues(OnnxModels.external("w", "../secret.bin"))
                  .setIndices(
                      TensorProto.newBuilder()
                          .setDataType(7)
                          .addDims(4)
                          .addInt64Data(0)
                          .addInt64Data(1)
                          .addInt64Data(2)
                          .addInt64Data(3))
                  .build();
          return new String[] {
            "run", write("m/sparse.onnx", OnnxModels.addModel(null, sp)).toString()
          };
        });
    run(
        "hostile ONNX file",
        "raw_data shorter than its dims",
        false,
        () -> {
          TensorProto w =
              TensorProto.newBuilder()
                  .setName("w")
                  .setDataType(1)
                  .addDims(4)
                  .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[8]))
                  .build();
          return new String[] {"run", write("short.onnx", OnnxModels.addModel(w, null)).toString()};
        });
    run(
        "hostile ONNX file",
        "initializer dims 2^62 without data",
        false,
        () -> {
          TensorProto w =
              TensorProto.newBuilder()
                  .setName("w")
                  .setDataType(1)
                  .addDims(1L << 31)
                  .addDims(1L << 31)
                  .build();
          return new String[] {"run", write("huge.onnx", OnnxModels.addModel(w, null)).toString()};
        });
    // 11. weights files
    run(
        "weights file",
        "misspelled path (--weights)",
        false,
        () -> {
          String[] a = compile("a.cmod", MLP);
          return new String[] {
            a[0], a[1], a[2], a[3], "--weights", dir.resolve("wieghts.safetensors").toString()
          };
        });
    run(
        "weights file",
        "misspelled path (weights \"...\" in the model)",
        true,
        () ->
            compile(
                "a.cmod",
                MLP.replace("  input x", "  weights \"wieghts.safetensors\"\n  input x")));
    run(
        "weights file",
        "truncated",
        false,
        () -> {
          Map<String, Tensor> w = new TreeMap<>();
          w.put("l1.weight", Tensor.ofFloats(new long[] {4, 8}, new float[32]));
          byte[] b = Safetensors.toBytes(w, Map.of());
          Path p = write("w.safetensors", Arrays.copyOf(b, b.length - 10));
          String[] a = compile("a.cmod", MLP);
          return new String[] {a[0], a[1], a[2], a[3], "--weights", p.toString()};
        });
    run(
        "weights file",
        "garbage",
        false,
        () -> {
          byte[] junk = new byte[256];
          new Random(3).nextBytes(junk);
          Path p = write("w.safetensors", junk);
          String[] a = compile("a.cmod", MLP);
          return new String[] {a[0], a[1], a[2], a[3], "--weights", p.toString()};
        });
    run(
        "weights file",
        "wrong shape",
        false,
        () -> {
          Map<String, Tensor> w = new TreeMap<>();
          w.put("l1.weight", Tensor.ofFloats(new long[] {8, 4}, new float[32]));
          Path p = write("w.safetensors", Safetensors.toBytes(w, Map.of()));
          String[] a = compile("a.cmod", MLP);
          return new String[] {a[0], a[1], a[2], a[3], "--weights", p.toString()};
        });
    run(
        "weights file",
        "unknown key",
        false,
        () -> {
          Map<String, Tensor> w = new TreeMap<>();
          w.put("l1.wieght", Tensor.ofFloats(new long[] {4, 8}, new float[32]));
          Path p = write("w.safetensors", Safetensors.toBytes(w, Map.of()));
          String[] a = compile("a.cmod", MLP);
          return new String[] {a[0], a[1], a[2], a[3], "--weights", p.toString()};
        });
    run(
        "weights file",
        "a folder instead of a file",
        false,
        () -> {
          Files.createDirectories(dir.resolve("w.safetensors"));
          String[] a = compile("a.cmod", MLP);
          return new String[] {
            a[0], a[1], a[2], a[3], "--weights", dir.resolve("w.safetensors").toString()
          };
        });
    // 12. .npy inputs
    run(
        "truncated .npy",
        "truncated data",
        false,
        () -> {
          byte[] b = npy(DType.F32, new long[] {2, 4});
          Path x = write("x.npy", Arrays.copyOf(b, b.length - 3));
          return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
        });
    run(
        "truncated .npy",
        "truncated header",
        false,
        () -> {
          Path x = write("x.npy", Arrays.copyOf(npy(DType.F32, new long[] {2, 4}), 20));
          return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
        });
    run(
        "truncated .npy",
        "not a .npy file",
        false,
        () -> {
          Path x = write("x.npy", "hello".getBytes(StandardCharsets.US_ASCII));
          return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
        });
    run(
        "truncated .npy",
        "missing file",
        false,
        () ->
            new String[] {
              "run", write("a.cmod", MLP).toString(), "--input", "x=" + dir.resolve("nope.npy")
            });
    // 13. inputs of the wrong shape or type
    run(
        "input of the wrong shape",
        "f32[2, 5] for f32[batch, 4]",
        false,
        () -> {
          Path x = write("x.npy", npy(DType.F32, new long[] {2, 5}));
          return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
        });
    run(
        "input of the wrong shape",
        "rank 3 for rank 2",
        false,
        () -> {
          Path x = write("x.npy", npy(DType.F32, new long[] {2, 4, 1}));
          return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
        });
    run(
        "input of the wrong shape",
        "i64 for f32",
        false,
        () -> {
          Path x = write("x.npy", npy(DType.I64, new long[] {2, 4}));
          return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
        });
    run(
        "input of the wrong shape",
        "unknown input name",
        false,
        () -> {
          Path x = write("x.npy", npy(DType.F32, new long[] {2, 4}));
          return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "z=" + x};
        });
    run(
        "input of the wrong shape",
        "wrong shape for an .onnx model",
        false,
        () -> {
          Path m = goodModel();
          Path x = write("x.npy", npy(DType.F32, new long[] {2, 5}));
          return new String[] {"run", m.toString(), "--input", "x=" + x};
        });
    run(
        "input of the wrong shape",
        "inconsistent symbolic dim",
        false,
        () -> {
          Path a = write("a.npy", npy(DType.F32, new long[] {2, 3, 4}));
          Path b = write("b.npy", npy(DType.F32, new long[] {2, 5, 4}));
          Path src =
              write(
                  "s.cmod",
                  "model M {\n  input a: Seq[s, 4]\n  input b: Seq[s, 4]\n  output y = a + b\n}\n");
          return new String[] {"run", src.toString(), "--input", "a=" + a, "--input", "b=" + b};
        });
    // 14. output paths
    run(
        "output paths",
        "-o into a missing folder",
        false,
        Expect.code("CM0600"),
        () -> {
          Path src = write("a.cmod", MLP);
          return new String[] {
            "compile", src.toString(), "-o", dir.resolve("no/such/dir/out.onnx").toString()
          };
        });
    // a missing --output-dir is created now (HostileFilesTest checks it); one below a regular file
    // cannot be
    run(
        "output paths",
        "--output-dir below a regular file",
        false,
        Expect.code("CM0600"),
        () ->
            new String[] {
              "run",
              write("a.cmod", MLP).toString(),
              "--output-dir",
              dir.resolve("a.cmod/outs").toString()
            });
    run(
        "output paths",
        "-o is a folder",
        false,
        "F6 (fixed)",
        Expect.code("CM0600"),
        () -> {
          Files.createDirectories(dir.resolve("out.onnx"));
          Path src = write("a.cmod", MLP);
          return new String[] {"compile", src.toString(), "-o", dir.resolve("out.onnx").toString()};
        });
    run(
        "output paths",
        "export-weights -o is a folder",
        false,
        "F6 (fixed)",
        Expect.code("CM0600"),
        () -> {
          Files.createDirectories(dir.resolve("w.safetensors"));
          Path src = write("a.cmod", MLP);
          return new String[] {
            "export-weights", src.toString(), "-o", dir.resolve("w.safetensors").toString()
          };
        });
    run(
        "output paths",
        "--output-dir holds a folder named y.npy",
        false,
        "F6 (fixed)",
        Expect.code("CM0600"),
        () -> {
          Files.createDirectories(dir.resolve("outs/y.npy"));
          return new String[] {
            "run", write("a.cmod", MLP).toString(), "--output-dir", dir.resolve("outs").toString()
          };
        });
    // 15. usage errors
    run("usage errors", "unknown option", false, () -> new String[] {"compile", "--frobnicate"});
    run(
        "usage errors",
        "two -O levels",
        false,
        () -> {
          Path src = write("a.cmod", MLP);
          return new String[] {"compile", src.toString(), "-O0", "-O2"};
        });

    hostileOutputs();
    hostileReads();
    dataCodecs();
    hostileOnnx();
    limitsAndFloods();
    childHostile();
    if (Boolean.getBoolean("cmod.reliability.full")) {
      childCases();
    }
    writeTable();
    List<String> failures = new ArrayList<>();
    for (Result r : results) {
      if (!r.problems().isEmpty() && !r.note().matches("[FH]\\d+(?! \\(fixed\\)).*")) {
        failures.add(r.kind() + " / " + r.name() + ": " + r.problems());
      }
    }
    assertTrue(failures.isEmpty(), "cases that broke the promise:\n" + String.join("\n", failures));
  }

  // ---------------------------------------------------------------------------------------------
  // Hostile files and hostile environments

  private static final boolean FIFO = Hostile.canMakeFifo();

  private String[] compileTo(Path out) throws IOException {
    return new String[] {"compile", write("a.cmod", MLP).toString(), "-o", out.toString()};
  }

  private String[] exportTo(Path out) throws IOException {
    return new String[] {"export-weights", write("a.cmod", MLP).toString(), "-o", out.toString()};
  }

  private String[] runInto(Path outs) throws IOException {
    return new String[] {"run", write("a.cmod", MLP).toString(), "--output-dir", outs.toString()};
  }

  private String[] runWith(Path npy) throws IOException {
    return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + npy};
  }

  private String[] compileWeights(Path w) throws IOException {
    String[] a = compile("a.cmod", MLP);
    return new String[] {a[0], a[1], a[2], a[3], "--weights", w.toString()};
  }

  private byte[] mlpWeights() {
    Map<String, Tensor> w = new TreeMap<>();
    w.put("l1.weight", Tensor.ofFloats(new long[] {4, 8}, new float[32]));
    return Safetensors.toBytes(w, Map.of());
  }

  private Path outsideFile() {
    return outside.resolve("keep.txt");
  }

  /**
   * An .npy header for {@code descr} and {@code shape} (Python tuple text) followed by {@code data}
   * bytes.
   */
  private static byte[] npyRaw(String descr, String shape, int version, int data) {
    String h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int total = 10 + h.length() + 1;
    int pad = (64 - total % 64) % 64;
    String header = h + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93)
        .put("NUMPY".getBytes(StandardCharsets.US_ASCII))
        .put((byte) version)
        .put((byte) 0);
    b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
    return b.array();
  }

  private static String npyHeaderText(byte[] npy) {
    return new String(npy, 0, Math.min(npy.length, 128), StandardCharsets.ISO_8859_1);
  }

  private static byte[] npyOf(String descr, long n, int elemBytes) {
    return npyRaw(descr, "(" + n + ",)", 1, (int) (n * elemBytes));
  }

  /**
   * Output paths (-o of compile and export-weights, run --output-dir) that are not a plain new or
   * regular file.
   */
  private void hostileOutputs() throws Exception {
    String k = "output file (-o) not writable";
    Expect cm0600 = Expect.code("CM0600");
    run(k, "-o /dev/null", false, cm0600, () -> compileTo(Path.of("/dev/null")));
    run(k, "-o /dev/full", false, cm0600, () -> compileTo(Path.of("/dev/full")));
    if (FIFO) {
      run(k, "-o a FIFO", false, cm0600, () -> compileTo(Hostile.mkfifo(dir.resolve("out.onnx"))));
    }
    run(k, "-o a socket", false, cm0600, () -> compileTo(Hostile.socket(dir.resolve("out.onnx"))));
    run(
        k,
        "-o a symlink to a file outside",
        false,
        cm0600,
        () -> {
          return compileTo(Files.createSymbolicLink(dir.resolve("out.onnx"), outsideFile()));
        });
    run(
        k,
        "-o a dangling symlink (into outside/)",
        false,
        cm0600,
        () -> {
          return compileTo(
              Files.createSymbolicLink(dir.resolve("out.onnx"), outside.resolve("new.onnx")));
        });
    run(
        k,
        "-o a symlink to a folder",
        false,
        cm0600,
        () -> compileTo(Files.createSymbolicLink(dir.resolve("out.onnx"), outside)));
    run(
        k,
        "-o below a regular file",
        false,
        cm0600,
        () -> compileTo(write("plain.txt", "x").resolve("out.onnx")));
    run(
        k,
        "-o a 300-character file name",
        false,
        cm0600,
        () -> compileTo(dir.resolve("o".repeat(300) + ".onnx")));
    run(
        k,
        "-o an existing folder with files",
        false,
        cm0600,
        () -> {
          write("out.onnx/inside.txt", "keep");
          return compileTo(dir.resolve("out.onnx"));
        });
    if (!Files.isWritable(Path.of("/")) || !"root".equals(System.getProperty("user.name"))) {
      run(
          k,
          "-o into a read-only folder",
          false,
          cm0600,
          () -> {
            Path ro = Files.createDirectories(dir.resolve("ro"));
            String[] a = compileTo(ro.resolve("out.onnx"));
            Files.setPosixFilePermissions(
                ro, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
            return a;
          });
    }

    k = "export-weights -o not writable";
    run(k, "-o /dev/null", false, cm0600, () -> exportTo(Path.of("/dev/null")));
    if (FIFO) {
      run(
          k,
          "-o a FIFO",
          false,
          cm0600,
          () -> exportTo(Hostile.mkfifo(dir.resolve("w.safetensors"))));
    }
    run(
        k,
        "-o a socket",
        false,
        cm0600,
        () -> exportTo(Hostile.socket(dir.resolve("w.safetensors"))));
    run(
        k,
        "-o a symlink to a file outside",
        false,
        cm0600,
        () -> exportTo(Files.createSymbolicLink(dir.resolve("w.safetensors"), outsideFile())));
    run(
        k,
        "-o into a missing folder",
        false,
        cm0600,
        () -> exportTo(dir.resolve("no/such/w.safetensors")));
    run(
        k,
        "-o below a regular file",
        false,
        cm0600,
        () -> exportTo(write("plain.txt", "x").resolve("w.safetensors")));

    k = "run --output-dir not usable";
    run(k, "--output-dir is a regular file", false, cm0600, () -> runInto(write("outs", "x")));
    if (FIFO) {
      run(
          k,
          "--output-dir is a FIFO",
          false,
          cm0600,
          () -> runInto(Hostile.mkfifo(dir.resolve("outs"))));
      run(
          k,
          "outs/y.npy is a FIFO",
          false,
          cm0600,
          () -> {
            Hostile.mkfifo(dir.resolve("outs/y.npy"));
            return runInto(dir.resolve("outs"));
          });
    }
    run(k, "--output-dir is /dev/null", false, cm0600, () -> runInto(Path.of("/dev/null")));
    run(
        k,
        "outs/y.npy is a symlink to a file outside",
        false,
        cm0600,
        () -> {
          Files.createDirectories(dir.resolve("outs"));
          Files.createSymbolicLink(dir.resolve("outs/y.npy"), outsideFile());
          return runInto(dir.resolve("outs"));
        });
    run(
        k,
        "outs/y.npy is a dangling symlink into outside/",
        false,
        cm0600,
        () -> {
          Files.createDirectories(dir.resolve("outs"));
          Files.createSymbolicLink(dir.resolve("outs/y.npy"), outside.resolve("y.npy"));
          return runInto(dir.resolve("outs"));
        });
    run(
        k,
        "outs/y.npy is a socket",
        false,
        cm0600,
        () -> {
          Hostile.socket(dir.resolve("outs/y.npy"));
          return runInto(dir.resolve("outs"));
        });
    run(
        k,
        "two outputs, the second's file is a folder: none written",
        false,
        cm0600,
        () -> {
          Path m = write("two.onnx", OnnxModels.identities(List.of("a", "b")));
          Files.createDirectories(dir.resolve("outs/b.npy"));
          return new String[] {"run", m.toString(), "--output-dir", dir.resolve("outs").toString()};
        });
    run(
        k,
        "a new --output-dir, then a bad --input: nothing left",
        false,
        "H3 (fixed)",
        Expect.code("CM0403"),
        () ->
            new String[] {
              "run",
              write("a.cmod", MLP).toString(),
              "--input",
              "x=" + write("x.npy", "junk"),
              "--output-dir",
              dir.resolve("new/outs").toString()
            });
    run(
        k,
        "hostile output name '../keep.txt' (mapped, its file a folder)",
        false,
        cm0600,
        () -> {
          Path m = write("two.onnx", OnnxModels.identities(List.of("ok", "../keep.txt")));
          Files.createDirectories(dir.resolve("outs/.._keep.txt.npy"));
          Files.createDirectories(dir.resolve("outs/output_.._keep.txt.npy"));
          return new String[] {"run", m.toString(), "--output-dir", dir.resolve("outs").toString()};
        });
  }

  /**
   * Files cmod reads that are not plain regular files, or are too large, or are links where a model
   * names them.
   */
  private static final String CODEC_MODEL =
      """
      model M {
        input photo: Image[3, 8, 8] from image(resize = [8, 8])
        input clip: Audio[64] from wav(rate = 16000)
        input caption: Text[n] vocab 4 from chars("chars.txt", strict = true) where n <= 4
        input species: Class[2] from labels("labels.txt")
        output a: f32[3, 8, 8] = photo
        output b: f32[64] = clip
        output c = caption
        output d = species
      }
      """;

  /** A run of CODEC_MODEL with good inputs except {@code bad} (NAME=VALUE) in place of its own. */
  private String[] runCodecs(String bad) throws IOException {
    write("chars.txt", "<pad>\na\nb\nc\n");
    write("labels.txt", "cat\ndog\n");
    write("ok.png", tinyPng());
    write("ok.wav", tinyWav(16000, 1, 16, 64));
    Path src = write("m.cmod", CODEC_MODEL);
    java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("run", src.toString()));
    java.util.Map<String, String> in = new java.util.LinkedHashMap<>();
    in.put("photo", dir.resolve("ok.png").toString());
    in.put("clip", dir.resolve("ok.wav").toString());
    in.put("caption", "abc");
    in.put("species", "cat");
    String name = bad.substring(0, bad.indexOf('='));
    in.put(name, bad.substring(bad.indexOf('=') + 1));
    in.forEach((k, v) -> a.addAll(java.util.List.of("--input", k + "=" + v)));
    return a.toArray(new String[0]);
  }

  private static byte[] tinyPng() throws IOException {
    java.awt.image.BufferedImage img =
        new java.awt.image.BufferedImage(5, 3, java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "png", o);
    return o.toByteArray();
  }

  /** A WAV file: RIFF header with {@code format} (1 PCM, 6 A-law...) and {@code frames} zeros. */
  private static byte[] tinyWav(int rate, int format, int bits, int frames) {
    int data = frames * bits / 8;
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(44 + data).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(36 + data).put("WAVE".getBytes());
    b.put("fmt ".getBytes()).putInt(16).putShort((short) format).putShort((short) 1);
    b.putInt(rate).putInt(rate * bits / 8).putShort((short) (bits / 8)).putShort((short) bits);
    b.put("data".getBytes()).putInt(data);
    return b.array();
  }

  /** Real data in through declared codecs: every bad file, value or codec file is a diagnostic. */
  private void dataCodecs() throws Exception {
    String k = "data codecs (from image/wav/chars/labels)";
    Expect cm0701 = Expect.code("CM0701");
    run(
        k,
        "a PNG cut short",
        false,
        cm0701,
        () -> {
          byte[] png = tinyPng();
          write("cut.png", java.util.Arrays.copyOf(png, png.length / 2));
          return runCodecs("photo=" + dir.resolve("cut.png"));
        });
    run(
        k,
        "a PNG header claiming 60000 x 60000",
        false,
        cm0701,
        () -> {
          byte[] png = tinyPng();
          java.nio.ByteBuffer.wrap(png, 16, 8).putInt(60000).putInt(60000);
          write("huge.png", png);
          return runCodecs("photo=" + dir.resolve("huge.png"));
        });
    run(
        k,
        "an A-law WAV",
        false,
        cm0701,
        () -> {
          write("alaw.wav", tinyWav(16000, 6, 8, 64));
          return runCodecs("clip=" + dir.resolve("alaw.wav"));
        });
    run(
        k,
        "a WAV at 1 Hz (cannot be resampled to 16 kHz)",
        false,
        cm0701,
        () -> {
          write("slow.wav", tinyWav(1, 1, 16, 64));
          return runCodecs("clip=" + dir.resolve("slow.wav"));
        });
    run(k, "text over its bound under strict", false, cm0701, () -> runCodecs("caption=abcabc"));
    run(k, "a character the vocabulary lacks", false, cm0701, () -> runCodecs("caption=abz"));
    run(k, "a label not in the label file", false, cm0701, () -> runCodecs("species=cow"));
    run(
        k,
        "a label file that is a symlink",
        true,
        Expect.code("CM0700"),
        () -> {
          String[] a = runCodecs("species=cat");
          Files.delete(dir.resolve("labels.txt"));
          Files.createSymbolicLink(dir.resolve("labels.txt"), outside.resolve("keep.txt"));
          return a;
        });
    run(
        k,
        "a tokenizer.json of another vocabulary",
        true,
        Expect.code("CM0700"),
        () -> {
          write(
              "t.json", "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"b\": 1}}}");
          return compile(
              "t.cmod",
              "model M {\n  input s: Text[n] vocab 30522 from tokenizer(\"t.json\") where n <= 8\n"
                  + "  output y = s\n}\n");
        });
  }

  private void hostileReads() throws Exception {
    String k = "input file unreadable (--input)";
    Expect cm0403 = Expect.code("CM0403");
    if (FIFO) {
      run(
          k,
          "a FIFO (nobody writes)",
          false,
          cm0403,
          () -> runWith(Hostile.mkfifo(dir.resolve("x.npy"))));
    }
    run(k, "/dev/zero", false, cm0403, () -> runWith(Path.of("/dev/zero")));
    run(k, "a folder", false, cm0403, () -> runWith(Files.createDirectories(dir.resolve("x.npy"))));
    run(k, "a socket", false, cm0403, () -> runWith(Hostile.socket(dir.resolve("x.npy"))));
    run(
        k,
        "a dangling symlink",
        false,
        cm0403,
        () -> runWith(Files.createSymbolicLink(dir.resolve("x.npy"), dir.resolve("gone.npy"))));
    run(k, "an empty file", false, cm0403, () -> runWith(write("x.npy", new byte[0])));
    run(
        k,
        "8 GiB sparse file",
        false,
        cm0403,
        () -> runWith(Hostile.sparse(dir.resolve("x.npy"), npyOf("<f4", 4, 4), 8L << 30)));
    run(
        k,
        "header claims 2^40 elements, 64 bytes of data",
        false,
        cm0403,
        () -> runWith(write("x.npy", npyRaw("<f4", "(1099511627776,)", 1, 64))));
    run(
        k,
        "header claims (2^31, 2^31, 4)",
        false,
        cm0403,
        () -> runWith(write("x.npy", npyRaw("<f4", "(2147483648, 2147483648, 4)", 1, 64))));
    run(
        k,
        "negative dim in the header",
        false,
        cm0403,
        () -> runWith(write("x.npy", npyRaw("<f4", "(-4,)", 1, 16))));
    run(
        k,
        "complex64 dtype",
        false,
        cm0403,
        () -> runWith(write("x.npy", npyRaw("<c8", "(4,)", 1, 32))));
    run(
        k,
        "object dtype",
        false,
        cm0403,
        () -> runWith(write("x.npy", npyRaw("|O", "(4,)", 1, 32))));
    run(
        k,
        "format version 9",
        false,
        cm0403,
        () -> runWith(write("x.npy", npyRaw("<f4", "(4,)", 9, 16))));
    run(
        k,
        "header length 65535, file of 80 bytes",
        false,
        cm0403,
        () -> {
          byte[] b = npyOf("<f4", 4, 4);
          b[8] = (byte) 0xff;
          b[9] = (byte) 0xff;
          return runWith(write("x.npy", b));
        });
    run(
        k,
        "empty path (--input x=)",
        false,
        ANY,
        () -> new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x="});

    k = "input does not match the model";
    Expect cm0402 = Expect.code("CM0402");
    run(
        k,
        "<f8 for f32 (.cmod)",
        false,
        cm0402.saying("f64"),
        () -> runWith(write("x.npy", npyOf("<f8", 4, 8))));
    run(k, "|b1 for f32 (.cmod)", false, cm0402, () -> runWith(write("x.npy", npyOf("|b1", 4, 1))));
    run(
        k,
        "<i4 for i64 (.cmod, Text input)",
        false,
        cm0402.saying("i32"),
        () -> {
          Path src = write("t.cmod", "model M {\n  input t: Text[4] vocab 10\n  output y = t\n}\n");
          return new String[] {
            "run", src.toString(), "--input", "t=" + write("t.npy", npyOf("<i4", 4, 4))
          };
        });
    run(
        k,
        "<f8 for f32 (.onnx)",
        false,
        cm0402.saying("f64"),
        () ->
            new String[] {
              "run",
              write("m.onnx", OnnxModels.identity(OnnxModels.FLOAT)).toString(),
              "--input",
              "x=" + write("x.npy", npyOf("<f8", 4, 8))
            });
    run(
        k,
        "<i4 for i64 (.onnx)",
        false,
        cm0402.saying("i32"),
        () ->
            new String[] {
              "run",
              write("m.onnx", OnnxModels.identity(OnnxModels.INT64)).toString(),
              "--input",
              "x=" + write("x.npy", npyOf("<i4", 4, 4))
            });
    run(
        k,
        "rank 2 for rank 1 (.onnx)",
        false,
        cm0402,
        () ->
            new String[] {
              "run",
              write("m.onnx", OnnxModels.identity(OnnxModels.FLOAT)).toString(),
              "--input",
              "x=" + write("x.npy", npy(DType.F32, new long[] {1, 4}))
            });
    run(
        k,
        "fixed dim 5 for 4 (.onnx)",
        false,
        cm0402,
        () ->
            new String[] {
              "run",
              write("m.onnx", OnnxModels.identity(OnnxModels.FLOAT)).toString(),
              "--input",
              "x=" + write("x.npy", npy(DType.F32, new long[] {5}))
            });
    run(
        k,
        "unknown input name (.onnx)",
        false,
        cm0402,
        () ->
            new String[] {
              "run",
              write("m.onnx", OnnxModels.identity(OnnxModels.FLOAT)).toString(),
              "--input",
              "q=" + write("x.npy", npy(DType.F32, new long[] {4}))
            });
    run(
        k,
        "inconsistent symbolic dim (.onnx)",
        false,
        cm0402,
        () -> {
          ai.onnx.proto.OnnxMl.GraphProto g =
              ai.onnx.proto.OnnxMl.GraphProto.newBuilder()
                  .setName("g")
                  .addInput(OnnxModels.value("a", OnnxModels.FLOAT, "n"))
                  .addInput(OnnxModels.value("b", OnnxModels.FLOAT, "n"))
                  .addOutput(OnnxModels.value("y", OnnxModels.FLOAT, "n"))
                  .addNode(OnnxModels.node("Add", List.of("a", "b"), List.of("y")))
                  .build();
          Path m = write("m.onnx", OnnxModels.model(g, 17));
          return new String[] {
            "run",
            m.toString(),
            "--input",
            "a=" + write("a.npy", npy(DType.F32, new long[] {3})),
            "--input",
            "b=" + write("b.npy", npy(DType.F32, new long[] {5}))
          };
        });
    run(
        k,
        "one of two inputs missing (.onnx)",
        false,
        cm0402,
        () -> {
          ai.onnx.proto.OnnxMl.GraphProto g =
              ai.onnx.proto.OnnxMl.GraphProto.newBuilder()
                  .setName("g")
                  .addInput(OnnxModels.value("a", OnnxModels.FLOAT, 4L))
                  .addInput(OnnxModels.value("b", OnnxModels.FLOAT, 4L))
                  .addOutput(OnnxModels.value("y", OnnxModels.FLOAT, 4L))
                  .addNode(OnnxModels.node("Add", List.of("a", "b"), List.of("y")))
                  .build();
          return new String[] {
            "run",
            write("m.onnx", OnnxModels.model(g, 17)).toString(),
            "--input",
            "a=" + write("a.npy", npy(DType.F32, new long[] {4}))
          };
        });
    run(
        k,
        "the same input twice",
        false,
        cm0402,
        () -> {
          Path x = write("x.npy", npy(DType.F32, new long[] {4}));
          return new String[] {
            "run", write("a.cmod", MLP).toString(), "--input", "x=" + x, "--input", "x=" + x
          };
        });

    k = "source or import not a regular file";
    Expect cm0102 = Expect.code("CM0102");
    if (FIFO) {
      run(
          k,
          "source is a FIFO",
          false,
          cm0102,
          () ->
              new String[] {
                "compile",
                Hostile.mkfifo(dir.resolve("a.cmod")).toString(),
                "-o",
                dir.resolve("out.onnx").toString()
              });
      run(
          k,
          "import of a FIFO",
          true,
          cm0102,
          () -> {
            Hostile.mkfifo(dir.resolve("b.cmod"));
            return compile("a.cmod", "import \"./b.cmod\"\n" + MLP);
          });
      run(
          k,
          "import of a symlink to a FIFO",
          true,
          cm0102,
          () -> {
            Hostile.mkfifo(outside.resolve("p.cmod"));
            Files.createSymbolicLink(dir.resolve("b.cmod"), outside.resolve("p.cmod"));
            return compile("a.cmod", "import \"./b.cmod\"\n" + MLP);
          });
    }
    run(
        k,
        "source is /dev/zero",
        false,
        ANY,
        () -> new String[] {"compile", "/dev/zero", "-o", dir.resolve("out.onnx").toString()});
    run(
        k,
        "source is a folder",
        false,
        cm0102,
        () ->
            new String[] {
              "compile",
              Files.createDirectories(dir.resolve("a.cmod")).toString(),
              "-o",
              dir.resolve("out.onnx").toString()
            });
    run(
        k,
        "source is a socket",
        false,
        cm0102,
        () ->
            new String[] {
              "compile",
              Hostile.socket(dir.resolve("a.cmod")).toString(),
              "-o",
              dir.resolve("out.onnx").toString()
            });
    run(
        k,
        "source is a dangling symlink",
        false,
        cm0102,
        () ->
            new String[] {
              "compile",
              Files.createSymbolicLink(dir.resolve("a.cmod"), dir.resolve("gone.cmod")).toString(),
              "-o",
              dir.resolve("out.onnx").toString()
            });
    run(
        k,
        "import of a folder",
        true,
        cm0102,
        () -> {
          Files.createDirectories(dir.resolve("b.cmod"));
          return compile("a.cmod", "import \"./b.cmod\"\n" + MLP);
        });
    run(
        k,
        "import \"/dev/zero\"",
        true,
        ANY,
        () -> compile("a.cmod", "import \"/dev/zero\"\n" + MLP));
    run(
        k,
        "import of a socket",
        true,
        cm0102,
        () -> {
          Hostile.socket(dir.resolve("b.cmod"));
          return compile("a.cmod", "import \"./b.cmod\"\n" + MLP);
        });
    run(
        k,
        "source is an 8 GiB sparse file",
        false,
        Expect.code("CM0004"),
        () ->
            new String[] {
              "compile",
              Hostile.sparse(dir.resolve("a.cmod"), 8L << 30).toString(),
              "-o",
              dir.resolve("out.onnx").toString()
            });
    run(
        k,
        "import of an 8 GiB sparse file",
        true,
        Expect.code("CM0004"),
        () -> {
          Hostile.sparse(dir.resolve("b.cmod"), 8L << 30);
          return compile("a.cmod", "import \"./b.cmod\"\n" + MLP);
        });

    k = "weights file unreadable or linked";
    Expect cm0302 = Expect.code("CM0302");
    if (FIFO) {
      run(
          k,
          "--weights a FIFO",
          false,
          cm0302,
          () -> compileWeights(Hostile.mkfifo(dir.resolve("w.safetensors"))));
      run(
          k,
          "import weights of a FIFO",
          true,
          cm0302,
          () -> {
            Hostile.mkfifo(dir.resolve("w.safetensors"));
            return compile("a.cmod", "import weights \"w.safetensors\" as style\n" + MLP);
          });
    }
    run(k, "--weights /dev/zero", false, cm0302, () -> compileWeights(Path.of("/dev/zero")));
    run(
        k,
        "--weights an 8 GiB sparse file",
        false,
        cm0302,
        () -> compileWeights(Hostile.sparse(dir.resolve("w.safetensors"), 8L << 30)));
    run(
        k,
        "header length 2^62",
        false,
        cm0302,
        () -> {
          ByteBuffer b =
              ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 62).putLong(0);
          return compileWeights(write("w.safetensors", b.array()));
        });
    run(
        k,
        "weights \"...\" is a symlink",
        true,
        cm0302,
        () -> {
          Files.write(outside.resolve("w.safetensors"), mlpWeights());
          Files.createSymbolicLink(dir.resolve("w.safetensors"), outside.resolve("w.safetensors"));
          return compile(
              "a.cmod", MLP.replace("  input x", "  weights \"w.safetensors\"\n  input x"));
        });
    run(
        k,
        "weights \"...\" has a second hard link",
        true,
        cm0302,
        () -> {
          Files.write(outside.resolve("w.safetensors"), mlpWeights());
          Files.createLink(dir.resolve("w.safetensors"), outside.resolve("w.safetensors"));
          return compile(
              "a.cmod", MLP.replace("  input x", "  weights \"w.safetensors\"\n  input x"));
        });
    run(
        k,
        "weights \"...\" is a folder",
        true,
        cm0302,
        () -> {
          Files.createDirectories(dir.resolve("w.safetensors"));
          return compile(
              "a.cmod", MLP.replace("  input x", "  weights \"w.safetensors\"\n  input x"));
        });
    run(
        k,
        "import weights of a symlink",
        true,
        cm0302,
        () -> {
          Files.write(outside.resolve("w.safetensors"), mlpWeights());
          Files.createSymbolicLink(dir.resolve("w.safetensors"), outside.resolve("w.safetensors"));
          return compile("a.cmod", "import weights \"w.safetensors\" as style\n" + MLP);
        });
    run(
        k,
        "import weights with a second hard link",
        true,
        cm0302,
        () -> {
          Files.write(outside.resolve("w.safetensors"), mlpWeights());
          Files.createLink(dir.resolve("w.safetensors"), outside.resolve("w.safetensors"));
          return compile("a.cmod", "import weights \"w.safetensors\" as style\n" + MLP);
        });
    run(
        k,
        "import weights of an 8 GiB sparse file",
        true,
        cm0302,
        () -> {
          Hostile.sparse(dir.resolve("w.safetensors"), 8L << 30);
          return compile("a.cmod", "import weights \"w.safetensors\" as style\n" + MLP);
        });
  }

  private String[] runOnnx(String file, byte[] model) throws IOException {
    return new String[] {"run", write(file, model).toString()};
  }

  private String importOnnx(String file) {
    return "import onnx \""
        + file
        + "\" as Enc\nmodel M {\n  input x: f32[4]\n  output y = Enc(x)\n}\n";
  }

  /** ONNX files with hostile external data, links, kinds of file, opsets. */
  private void hostileOnnx() throws Exception {
    String k = "ONNX external data";
    Expect cm0501 = Expect.code("CM0501");
    run(
        k,
        "a folder symlink in the path (sub -> outside/)",
        false,
        cm0501,
        () -> {
          Files.write(outside.resolve("w.bin"), OnnxModels.floats(7, 7, 7, 7));
          Files.createSymbolicLink(dir.resolve("sub"), outside);
          return runOnnx(
              "ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "sub/w.bin"), null));
        });
    run(
        k,
        "a second hard link (the other one outside)",
        false,
        cm0501,
        () -> {
          Files.write(outside.resolve("w.bin"), OnnxModels.floats(7, 7, 7, 7));
          Files.createLink(dir.resolve("w.bin"), outside.resolve("w.bin"));
          return runOnnx("ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "w.bin"), null));
        });
    if (FIFO) {
      run(
          k,
          "data file is a FIFO",
          false,
          cm0501,
          () -> {
            Hostile.mkfifo(dir.resolve("w.bin"));
            return runOnnx(
                "ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "w.bin"), null));
          });
    }
    run(
        k,
        "data file is a folder",
        false,
        cm0501,
        () -> {
          Files.createDirectories(dir.resolve("w.bin"));
          return runOnnx("ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "w.bin"), null));
        });
    run(
        k,
        "data file is a socket",
        false,
        cm0501,
        () -> {
          Hostile.socket(dir.resolve("w.bin"));
          return runOnnx("ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "w.bin"), null));
        });
    run(
        k,
        "data file missing",
        false,
        cm0501,
        () -> runOnnx("ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "w.bin"), null)));
    run(
        k,
        "range beyond the end (offset 8 + 16 of 16 bytes)",
        false,
        cm0501,
        () -> {
          write("w.bin", OnnxModels.floats(1, 2, 3, 4));
          return runOnnx(
              "ext.onnx",
              OnnxModels.addModel(OnnxModels.external("w", "w.bin", "8", "16", 4), null));
        });
    run(
        k,
        "length 12 for 4 floats",
        false,
        cm0501,
        () -> {
          write("w.bin", OnnxModels.floats(1, 2, 3, 4));
          return runOnnx(
              "ext.onnx",
              OnnxModels.addModel(OnnxModels.external("w", "w.bin", "0", "12", 4), null));
        });
    run(
        k,
        "negative offset",
        false,
        cm0501,
        () -> {
          write("w.bin", OnnxModels.floats(1, 2, 3, 4));
          return runOnnx(
              "ext.onnx",
              OnnxModels.addModel(OnnxModels.external("w", "w.bin", "-16", "16", 4), null));
        });
    run(
        k,
        "offset 2^63-1",
        false,
        cm0501,
        () -> {
          write("w.bin", OnnxModels.floats(1, 2, 3, 4));
          return runOnnx(
              "ext.onnx",
              OnnxModels.addModel(
                  OnnxModels.external("w", "w.bin", "9223372036854775807", "16", 4), null));
        });
    run(
        k,
        "offset not a number",
        false,
        cm0501,
        () -> {
          write("w.bin", OnnxModels.floats(1, 2, 3, 4));
          return runOnnx(
              "ext.onnx",
              OnnxModels.addModel(OnnxModels.external("w", "w.bin", "0x10", "16", 4), null));
        });
    run(
        k,
        "no location key",
        false,
        cm0501,
        () ->
            runOnnx(
                "ext.onnx",
                OnnxModels.addModel(OnnxModels.external("w", null, "0", "16", 4), null)));
    run(
        k,
        "location \"\"",
        false,
        cm0501,
        () ->
            runOnnx(
                "ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "", "0", "16", 4), null)));
    run(
        k,
        "location \".\"",
        false,
        cm0501,
        () ->
            runOnnx(
                "ext.onnx",
                OnnxModels.addModel(OnnxModels.external("w", ".", "0", "16", 4), null)));
    run(
        k,
        "location with a NUL character",
        false,
        cm0501,
        () -> {
          write("w.bin", OnnxModels.floats(1, 2, 3, 4));
          return runOnnx(
              "ext.onnx",
              OnnxModels.addModel(OnnxModels.external("w", "w.bin\u0000.txt", "0", "16", 4), null));
        });
    run(
        k,
        "location of 5000 characters",
        false,
        cm0501,
        () ->
            runOnnx(
                "ext.onnx",
                OnnxModels.addModel(
                    OnnxModels.external("w", "d".repeat(5000), "0", "16", 4), null)));
    run(
        k,
        "location 'sub/../../outside/keep.txt'",
        false,
        cm0501,
        () -> {
          Files.createDirectories(dir.resolve("sub"));
          return runOnnx(
              "ext.onnx",
              OnnxModels.addModel(
                  OnnxModels.external("w", "sub/../../outside/sub/data.bin"), null));
        });
    run(
        k,
        "location '/dev/zero'",
        false,
        cm0501,
        () ->
            runOnnx("ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "/dev/zero"), null)));
    run(
        k,
        "8 GiB sparse file, a tensor claiming 4 GiB",
        false,
        "H1 (fixed)",
        Expect.code("CM0500").within(3_000),
        () -> {
          Hostile.sparse(dir.resolve("w.bin"), 8L << 30);
          return runOnnx(
              "ext.onnx",
              OnnxModels.addModel(
                  OnnxModels.external("w", "w.bin", "0", Long.toString(4L << 30), 1L << 30), null));
        });
    run(
        k,
        "external data in a Constant node's attribute, '../'",
        false,
        cm0501,
        () -> {
          ai.onnx.proto.OnnxMl.GraphProto g =
              ai.onnx.proto.OnnxMl.GraphProto.newBuilder()
                  .setName("g")
                  .addInput(OnnxModels.value("x", OnnxModels.FLOAT, 4L))
                  .addOutput(OnnxModels.value("y", OnnxModels.FLOAT, 4L))
                  .addNode(
                      OnnxModels.node(
                          "Constant",
                          List.of(),
                          List.of("w"),
                          OnnxModels.tensorAttr(
                              "value", OnnxModels.external("w", "../outside/sub/data.bin"))))
                  .addNode(OnnxModels.node("Add", List.of("x", "w"), List.of("y")))
                  .build();
          return runOnnx("ext.onnx", OnnxModels.model(g, 17));
        });
    run(
        k,
        "import onnx with external data through a symlink",
        true,
        cm0501,
        () -> {
          Files.createSymbolicLink(dir.resolve("w.bin"), outside.resolve("sub/data.bin"));
          write("m.onnx", OnnxModels.addModel(OnnxModels.external("w", "w.bin"), null));
          return compile("a.cmod", importOnnx("m.onnx"));
        });

    k = "ONNX file hostile";
    run(
        k,
        "import onnx of a symlink",
        true,
        cm0501,
        () -> {
          Files.write(outside.resolve("m.onnx"), OnnxModels.identity(OnnxModels.FLOAT));
          Files.createSymbolicLink(dir.resolve("m.onnx"), outside.resolve("m.onnx"));
          return compile("a.cmod", importOnnx("m.onnx"));
        });
    run(
        k,
        "import onnx with a second hard link",
        true,
        cm0501,
        () -> {
          Files.write(outside.resolve("m.onnx"), OnnxModels.identity(OnnxModels.FLOAT));
          Files.createLink(dir.resolve("m.onnx"), outside.resolve("m.onnx"));
          return compile("a.cmod", importOnnx("m.onnx"));
        });
    if (FIFO) {
      run(
          k,
          "import onnx of a FIFO",
          true,
          ANY,
          () -> {
            Hostile.mkfifo(dir.resolve("m.onnx"));
            return compile("a.cmod", importOnnx("m.onnx"));
          });
      run(
          k,
          "cmod run of a FIFO",
          false,
          cm0501,
          () -> new String[] {"run", Hostile.mkfifo(dir.resolve("m.onnx")).toString()});
    }
    run(
        k,
        "import onnx of a folder",
        true,
        ANY,
        () -> {
          Files.createDirectories(dir.resolve("m.onnx"));
          return compile("a.cmod", importOnnx("m.onnx"));
        });
    // a path not ending in .onnx is a .cmod source
    run(
        k,
        "cmod run /dev/zero as a model",
        false,
        Expect.code("CM0102"),
        () -> new String[] {"run", "/dev/zero"});
    run(
        k,
        "cmod run of a symlink m.onnx -> /dev/zero",
        false,
        cm0501,
        () ->
            new String[] {
              "run",
              Files.createSymbolicLink(dir.resolve("m.onnx"), Path.of("/dev/zero")).toString()
            });
    run(
        k,
        "cmod run of an 8 GiB sparse .onnx",
        false,
        cm0501,
        () -> new String[] {"run", Hostile.sparse(dir.resolve("m.onnx"), 8L << 30).toString()});
    run(
        k,
        "import onnx of default-domain opset 23",
        true,
        cm0501.saying("23"),
        () -> {
          write(
              "m.onnx",
              OnnxModels.addModel(
                  TensorProto.newBuilder()
                      .setName("w")
                      .setDataType(1)
                      .addDims(4)
                      .setRawData(
                          com.google.protobuf.ByteString.copyFrom(OnnxModels.floats(1, 2, 3, 4)))
                      .build(),
                  null,
                  23));
          return compile("a.cmod", importOnnx("m.onnx"));
        });
    run(
        k,
        "import onnx of opset 1000",
        true,
        cm0501.saying("1000"),
        () -> {
          write(
              "m.onnx",
              OnnxModels.addModel(
                  TensorProto.newBuilder()
                      .setName("w")
                      .setDataType(1)
                      .addDims(4)
                      .setRawData(
                          com.google.protobuf.ByteString.copyFrom(OnnxModels.floats(1, 2, 3, 4)))
                      .build(),
                  null,
                  1000));
          return compile("a.cmod", importOnnx("m.onnx"));
        });
    run(
        k,
        "random inputs for a declared input f32[2^31]",
        false,
        ANY,
        () -> {
          ai.onnx.proto.OnnxMl.GraphProto g =
              ai.onnx.proto.OnnxMl.GraphProto.newBuilder()
                  .setName("g")
                  .addInput(OnnxModels.value("x", OnnxModels.FLOAT, 1L << 31))
                  .addOutput(OnnxModels.value("y", OnnxModels.FLOAT, 1L << 31))
                  .addNode(OnnxModels.node("Identity", List.of("x"), List.of("y")))
                  .build();
          return runOnnx("m.onnx", OnnxModels.model(g, 17));
        });
    run(
        k,
        "random inputs for a declared input f32[2^14, 2^14]",
        false,
        ANY,
        () -> {
          ai.onnx.proto.OnnxMl.GraphProto g =
              ai.onnx.proto.OnnxMl.GraphProto.newBuilder()
                  .setName("g")
                  .addInput(OnnxModels.value("x", OnnxModels.FLOAT, 1L << 14, 1L << 14))
                  .addOutput(OnnxModels.value("y", OnnxModels.FLOAT, 1L << 14, 1L << 14))
                  .addNode(OnnxModels.node("Identity", List.of("x"), List.of("y")))
                  .build();
          return runOnnx("m.onnx", OnnxModels.model(g, 17));
        });
  }

  /** Limits on instances, and floods of diagnostics that must stay bounded. */
  private void limitsAndFloods() throws Exception {
    String k = "instance limit (nested repeat)";
    run(
        k,
        "repeat(4096) of repeat(4096) of repeat(4096) Linear",
        true,
        Expect.code("CM0500").saying("65536"),
        () ->
            compile(
                "a.cmod",
                """
        import std.nn.{Linear}
        module A(d: int)(x: f32[..., d]) -> f32[..., d] {
          x |> repeat(4096) Linear(d, d)
        }
        module B(d: int)(x: f32[..., d]) -> f32[..., d] {
          x |> repeat(4096) A(d)
        }
        model M {
          input x: f32[4]
          output y = x |> repeat(4096) B(4)
        }
        """));
    run(
        k,
        "repeat(300) of repeat(300) (90 000 instances)",
        true,
        Expect.code("CM0500"),
        () ->
            compile(
                "a.cmod",
                """
        import std.nn.{Linear}
        module A(d: int)(x: f32[..., d]) -> f32[..., d] {
          x |> repeat(300) Linear(d, d)
        }
        model M {
          input x: f32[4]
          output y = x |> repeat(300) A(4)
        }
        """));
    run(
        k,
        "five levels of repeat(16) (1M instances)",
        true,
        Expect.code("CM0500"),
        () -> {
          StringBuilder sb = new StringBuilder("import std.nn.{Linear}\n");
          String inner = "Linear(d, d)";
          for (int i = 0; i < 4; i++) {
            sb.append("module L")
                .append(i)
                .append("(d: int)(x: f32[..., d]) -> f32[..., d] {\n  x |> repeat(16) ")
                .append(inner)
                .append("\n}\n");
            inner = "L" + i + "(d)";
          }
          sb.append("model M {\n  input x: f32[4]\n  output y = x |> repeat(16) ")
              .append(inner.replace("(d)", "(4)"))
              .append("\n}\n");
          return compile("a.cmod", sb.toString());
        });

    k = "diagnostic floods (output < 50 KB)";
    Expect small = ANY.output(50_000);
    run(
        k,
        "200 000 unknown keys in a weights file",
        false,
        Expect.code("CM0300").output(50_000),
        () -> {
          StringBuilder h = new StringBuilder("{");
          for (int i = 0; i < 200_000; i++) {
            h.append(i > 0 ? "," : "")
                .append("\"unknown.key")
                .append(i)
                .append("\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[")
                .append(4L * i)
                .append(',')
                .append(4L * i + 4)
                .append("]}");
          }
          h.append('}');
          return compileWeights(write("w.safetensors", safetensors(h.toString(), 800_000)));
        });
    run(
        k,
        "a 20 MB key name",
        false,
        Expect.code("CM0300").output(50_000),
        () -> {
          String h =
              "{\""
                  + "k".repeat(20 << 20)
                  + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
          return compileWeights(write("w.safetensors", safetensors(h, 4)));
        });
    run(
        k,
        "3.4 MB source, 150 000 unknown names",
        true,
        Expect.code("CM0100").output(50_000).saying("the first 100 are shown"),
        () -> {
          StringBuilder sb = new StringBuilder("model M {\n  input x: f32[4]\n");
          for (int i = 0; i < 150_000; i++) {
            sb.append("  let v").append(i).append(" = nope").append(i).append("\n");
          }
          sb.append("  output y = x\n}\n");
          return compile("a.cmod", sb.toString());
        });
    run(
        k,
        "an error on a 500 000-character line",
        true,
        Expect.code("CM0100").output(50_000),
        () ->
            compile(
                "a.cmod",
                "model M {\n  input x: f32[4]\n  output y = x + nope // "
                    + "c".repeat(500_000)
                    + "\n}\n"));
    run(
        k,
        "an error at the end of a 500 000-character line",
        true,
        Expect.code("CM0100").output(50_000),
        () ->
            compile(
                "a.cmod",
                "model M {\n  input x: f32[4]\n  output y = x"
                    + " ".repeat(500_000)
                    + "+ nope\n}\n"));
    // the parser stops after 20 syntax errors
    run(
        k,
        "10 000 syntax errors",
        true,
        small.saying("could not compile"),
        () -> compile("a.cmod", "model M {\n" + "  let = = ;\n".repeat(10_000) + "}\n"));
    run(
        k,
        "an unknown name of 1 MB",
        true,
        small,
        () ->
            compile(
                "a.cmod",
                "model M {\n  input x: f32[4]\n  output y = x + " + "n".repeat(1 << 20) + "\n}\n"));
  }

  private static byte[] safetensors(String header, int data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    return b.array();
  }

  /**
   * Memory blow-ups in a 512 MiB child JVM, the time limit through Main.main, a broken environment.
   */
  private void childHostile() throws Exception {
    String k = "memory blow-ups (-Xmx512m child)";
    newCase(k);
    write("big.onnx", OnnxModels.constantOfShape(1L << 30, false));
    childRun(
        k,
        "import onnx of ConstantOfShape [2^30] (a 162-byte model)",
        "512m",
        List.of(),
        Map.of(),
        ANY.orSuccess(),
        "compile",
        write(
                "a.cmod",
                "import onnx \"big.onnx\" as Big\nmodel M {\n  input x: f32[1]\n  output y = Big(x)\n}\n")
            .toString(),
        "-o",
        dir.resolve("out.onnx").toString());
    newCase(k);
    childRun(
        k,
        "cmod run: ConstantOfShape [2^31], declared",
        "512m",
        List.of(),
        Map.of(),
        ANY,
        "run",
        write("big.onnx", OnnxModels.constantOfShape(1L << 31, true)).toString());
    newCase(k);
    childRun(
        k,
        "cmod run: Expand by a constant to 2^26 elements",
        "512m",
        List.of(),
        Map.of(),
        ANY,
        "run",
        write("big.onnx", OnnxModels.expand(1L << 26, false)).toString());
    newCase(k);
    childRun(
        k,
        "cmod run: an output declared f32[2^31] (shape from an input)",
        "512m",
        List.of(),
        Map.of(),
        Expect.code("CM0404"),
        "run",
        write("big.onnx", OnnxModels.expandByInput(1L << 31)).toString(),
        "--input",
        "x=" + write("x.npy", npy(DType.F32, new long[] {1})),
        "--input",
        "shape="
            + write(
                "s.npy", Npy.toBytes(Tensor.ofLongs(DType.I64, new long[] {1}, new long[] {4}))));
    newCase(k);
    childRun(
        k,
        "cmod run: an output of 2^26 elements (shape from an input)",
        "512m",
        List.of(),
        Map.of(),
        Expect.code("CM0404"),
        "run",
        write("big.onnx", OnnxModels.expandByInput(null)).toString(),
        "--input",
        "x=" + write("x.npy", npy(DType.F32, new long[] {1})),
        "--input",
        "shape="
            + write(
                "s.npy",
                Npy.toBytes(Tensor.ofLongs(DType.I64, new long[] {1}, new long[] {1L << 26}))));
    newCase(k);
    Hostile.sparse(dir.resolve("w.bin"), 8L << 30);
    ai.onnx.proto.OnnxMl.GraphProto.Builder g =
        ai.onnx.proto.OnnxMl.GraphProto.newBuilder()
            .setName("g")
            .addInput(OnnxModels.value("x", OnnxModels.FLOAT, 1L))
            .addOutput(OnnxModels.value("y", OnnxModels.FLOAT, 1L));
    String prev = "x";
    for (int i = 0; i < 8; i++) {
      g.addInitializer(
          OnnxModels.external(
              "w" + i, "w.bin", Long.toString((long) i << 26), Long.toString(1L << 26), 1L << 24));
      g.addNode(OnnxModels.node("ReduceSum", List.of("w" + i), List.of("s" + i)));
      g.addNode(OnnxModels.node("Add", List.of(prev, "s" + i), List.of(i == 7 ? "y" : "a" + i)));
      prev = "a" + i;
    }
    childRun(
        k,
        "external data: 8 tensors of 64 MiB in an 8 GiB sparse file",
        "512m",
        List.of(),
        Map.of(),
        Expect.code("CM0500"),
        "run",
        write("ext.onnx", OnnxModels.model(g.build(), 17)).toString());
    newCase(k);
    Hostile.sparse(dir.resolve("w.bin"), 8L << 30);
    childRun(
        k,
        "external data: a 1 GiB tensor in an 8 GiB sparse file",
        "512m",
        List.of(),
        Map.of(),
        Expect.code("CM0500"),
        "run",
        write(
                "ext.onnx",
                OnnxModels.addModel(
                    OnnxModels.external("w", "w.bin", "0", Long.toString(1L << 30), 1L << 28),
                    null))
            .toString());
    newCase(k);
    write("w.bin", OnnxModels.floats(1, 2, 3, 4));
    childRun(
        k,
        "external data over CMOD_MAX_EXTERNAL_BYTES=8",
        "512m",
        List.of(),
        Map.of("CMOD_MAX_EXTERNAL_BYTES", "8"),
        Expect.code("CM0500"),
        "run",
        write("ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "w.bin"), null)).toString());

    k = "time limit (CMOD_TIME_LIMIT=3, Main.main)";
    newCase(k);
    childRun(
        k,
        "ONNX model with an endless Loop",
        "512m",
        List.of(),
        Map.of("CMOD_TIME_LIMIT", "3"),
        Expect.code("CM0500").saying("did not finish within 3 s").within(8_000),
        "run",
        write("loop.onnx", OnnxModels.endlessLoop()).toString());

    k = "environment (ONNX Runtime cannot start)";
    newCase(k);
    childRun(
        k,
        "java.io.tmpdir does not exist",
        "H2 (fixed)",
        "512m",
        List.of("-Djava.io.tmpdir=" + dir.resolve("no/such/tmp")),
        Map.of(),
        Expect.code("CM0601"),
        "run",
        write("a.cmod", MLP).toString());
    newCase(k);
    childRun(
        k,
        "java.io.tmpdir is a regular file",
        "H2 (fixed)",
        "512m",
        List.of("-Djava.io.tmpdir=" + write("tmpfile", "x")),
        Map.of(),
        Expect.code("CM0601"),
        "run",
        write("a.cmod", MLP).toString());
  }

  private void childRun(
      String kind,
      String name,
      String heap,
      List<String> opts,
      Map<String, String> env,
      Expect expect,
      String... args)
      throws Exception {
    childRun(kind, name, "", heap, opts, env, expect, args);
  }

  private void childRun(
      String kind,
      String name,
      String finding,
      String heap,
      List<String> opts,
      Map<String, String> env,
      Expect expect,
      String... args)
      throws Exception {
    Map<String, String> before = Hostile.snapshot(caseRoot);
    Cli.Run r = Hostile.child(dir, heap, opts, env, 120, args);
    record(kind, name, false, r, before, null, finding, expect);
    List<String> problems = results.get(results.size() - 1).problems();
    if (r.exit() == 134 || r.exit() == 139 || r.all().contains("A fatal error has been detected")) {
      problems.add("JVM crash");
    }
    try (Stream<Path> s = Files.list(dir)) {
      if (s.anyMatch(p -> p.getFileName().toString().startsWith("hs_err_pid"))) {
        problems.add("hs_err_pid*.log written");
      }
    }
    if (r.all().contains("OutOfMemoryError") || r.all().contains("out of memory")) {
      problems.add("out of memory");
    }
  }

  /** Cases in child JVMs: 1 GiB heap (memory), or another working directory (external data). */
  private void childCases() throws Exception {
    // a safetensors file whose 4096 entries all name the same 1 MiB: 4 GiB of tensors from a 1.4
    // MiB file
    newCase("weights file");
    StringBuilder h = new StringBuilder("{");
    for (int i = 0; i < 4096; i++) {
      h.append(i > 0 ? "," : "")
          .append("\"t")
          .append(i)
          .append("\":{\"dtype\":\"F32\",\"shape\":[262144],\"data_offsets\":[0,1048576]}");
    }
    h.append('}');
    byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b =
        ByteBuffer.allocate(8 + header.length + (1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header);
    Path w = write("overlap.safetensors", b.array());
    Path src = write("a.cmod", MLP);
    child(
        "weights file",
        "4096 entries sharing 1 MiB (4 GiB decoded), -Xmx1g",
        "1g",
        dir,
        "F5",
        "compile",
        src.toString(),
        "-o",
        dir.resolve("out.onnx").toString(),
        "--weights",
        w.toString());

    newCase("absurdly large parameter");
    src =
        write(
            "a.cmod",
            "import std.nn.{Linear}\nmodel M {\n  input x: f32[4096]\n  output y = x |> repeat(64) Linear(4096, 4096)\n}\n");
    child(
        "absurdly large parameter",
        "64 x Linear(4096, 4096): 4 GiB of parameters, -Xmx1g",
        "1g",
        dir,
        "",
        "compile",
        src.toString(),
        "-o",
        dir.resolve("out.onnx").toString());

    newCase("absurdly large parameter");
    src =
        write(
            "a.cmod",
            "model M {\n  input x: f32[1073741824]\n  output y = route x to [x] by soft\n}\n");
    child(
        "absurdly large parameter",
        "routing gate f32[2^30, 1] (past the 2^28 limit), -Xmx1g",
        "1g",
        dir,
        "F3 (fixed)",
        "compile",
        src.toString(),
        "-o",
        dir.resolve("out.onnx").toString());

    // valid external data next to a model is not bad input: FindingsTest.f4 checks that it runs
    // (F4, fixed)
  }

  private void child(String kind, String name, String heap, Path cwd, String note, String... args)
      throws Exception {
    Map<String, String> before = Hostile.snapshot(caseRoot);
    Cli.Run r = Cli.child(cwd, heap, 300, args);
    String n = note;
    if (r.all().contains("42.0")) {
      n = n + " read the working directory's w.bin";
    }
    if (r.err().contains("E:onnxruntime")) {
      n = n + " (+ ONNX Runtime's own [E:onnxruntime] log line on stderr)";
    }
    record(kind, name, false, r, before, null, n, ANY.within(300_000));
  }

  private void writeTable() throws IOException {
    Map<String, List<Result>> byKind = new LinkedHashMap<>();
    for (Result r : results) {
      byKind.computeIfAbsent(r.kind(), k -> new ArrayList<>()).add(r);
    }
    StringBuilder sb = new StringBuilder();
    sb.append(
        "| class of bad input | cases | exit codes | diagnostic codes | located | max time | outcome |\n");
    sb.append("|---|---|---|---|---|---|---|\n");
    for (Map.Entry<String, List<Result>> e : byKind.entrySet()) {
      Set<Integer> exits = new TreeSet<>();
      Set<String> codes = new TreeSet<>();
      int located = 0;
      int need = 0;
      long max = 0;
      List<String> bad = new ArrayList<>();
      for (Result r : e.getValue()) {
        exits.add(r.exit());
        codes.addAll(r.codes());
        located += r.located() ? 1 : 0;
        need += r.needLocation() ? 1 : 0;
        max = Math.max(max, r.millis());
        if (!r.problems().isEmpty()) {
          bad.add(
              r.name()
                  + ": "
                  + (r.note().isEmpty() ? "" : "finding " + r.note() + " ")
                  + r.problems());
        }
      }
      sb.append("| ")
          .append(e.getKey())
          .append(" | ")
          .append(e.getValue().size())
          .append(" | ")
          .append(join(exits))
          .append(" | ")
          .append(String.join(" ", codes))
          .append(" | ")
          .append(located)
          .append("/")
          .append(e.getValue().size())
          .append(need > 0 && need < e.getValue().size() ? " (" + need + " in a program)" : "")
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.2f s", max / 1000.0))
          .append(" | ")
          .append(bad.isEmpty() ? "ok" : String.join("; ", bad).replace("|", "\\|"))
          .append(" |\n");
    }
    sb.append(
        "\nPer case:\n\n| class | case | exit | codes | located | time | problems | first error line |\n|---|---|---|---|---|---|---|---|\n");
    for (Result r : results) {
      sb.append("| ")
          .append(r.kind())
          .append(" | ")
          .append(r.name().replace("|", "\\|"))
          .append(" | ")
          .append(r.exit())
          .append(" | ")
          .append(String.join(" ", r.codes()))
          .append(" | ")
          .append(r.needLocation() ? (r.located() ? "yes" : "NO") : (r.located() ? "yes" : "-"))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.2f s", r.millis() / 1000.0))
          .append(" | ")
          .append(
              (r.note() + " " + (r.problems().isEmpty() ? "" : r.problems()))
                  .trim()
                  .replace("|", "\\|"))
          .append(" | ")
          .append(r.firstError().replace("|", "\\|").replace("`", "'"))
          .append(" |\n");
    }
    Path out = Path.of("target", "reliability");
    Files.createDirectories(out);
    Files.writeString(out.resolve("results.md"), sb.toString());
    System.out.println(sb);
  }

  private static String join(Set<Integer> s) {
    List<String> parts = new ArrayList<>();
    for (Integer i : s) {
      parts.add(Integer.toString(i));
    }
    return String.join(", ", parts);
  }
}
