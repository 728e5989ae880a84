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
 * or exception text, no CM0900 "internal compiler error", no file left behind (no partial
 * artifact, nothing new in the case's folder or the working directory), and an end within the time
 * limit. The measured table (exit codes, diagnostic codes, located cases, time) is written to
 * {@code target/reliability/results.md}; {@code docs/reliability.md} quotes it.
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

  @TempDir
  Path root;

  private final List<Result> results = new ArrayList<>();

  /** One case's outcome. */
  record Result(String kind, String name, int exit, Set<String> codes, boolean located, boolean needLocation,
      long millis, List<String> problems, String note, String firstError) {}

  private static final Pattern ERROR_LINE = Pattern.compile("(?m)(?:^|: )(error(?:\\[CM\\d{4}])?: .*)$");

  /** The first error message line without its location, shortened: what the user reads first. */
  private static String firstError(Cli.Run r) {
    Matcher m = ERROR_LINE.matcher(r.err());
    if (!m.find()) {
      return "";
    }
    // drop the test's @TempDir, wherever java.io.tmpdir is
    String t = m.group(1).replaceAll("\\s+", " ").replaceAll("[^\\s:'\"]*/junit-?\\d+/[^/]+/", "");
    return t.length() > 110 ? t.substring(0, 107) + "..." : t;
  }

  private Path dir;

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

  /** Runs one case in a fresh folder; {@code needLocation}: the error is in a program, so it must point into it. */
  private void run(String kind, String name, boolean needLocation, Setup setup) throws Exception {
    run(kind, name, needLocation, "", setup);
  }

  /**
   * As above, for a case that shows a reported finding ({@code finding}, e.g. "F6"): its outcome is
   * recorded and marked, but not asserted until the finding is fixed (see FindingsTest).
   */
  private void run(String kind, String name, boolean needLocation, String finding, Setup setup) throws Exception {
    dir = Files.createDirectories(root.resolve(kind.replaceAll("[^A-Za-z0-9]+", "_") + "-" + results.size()));
    String[] args = setup.args();
    Set<String> before = listing(dir);
    Set<String> cwdBefore = listing(Path.of("").toAbsolutePath()).stream().filter(p -> !p.startsWith("target"))
        .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
    Cli.Run r = Cli.inProcess(args);
    record(kind, name, needLocation, r, before, cwdBefore, finding);
  }

  private void record(String kind, String name, boolean needLocation, Cli.Run r, Set<String> before,
      Set<String> cwdBefore, String note) throws IOException {
    Set<String> codes = new LinkedHashSet<>();
    Matcher m = CODE.matcher(r.all());
    while (m.find()) {
      codes.add(m.group(1));
    }
    boolean located = LOCATED.matcher(r.err()).find();
    List<String> problems = new ArrayList<>();
    if (r.exit() != 1 && r.exit() != 2) {
      problems.add("exit " + r.exit());
    }
    if (codes.isEmpty() && r.exit() != 2) {
      problems.add("no diagnostic code");
    }
    if (codes.contains("CM0900")) {
      problems.add("CM0900 internal error");
    }
    if (needLocation && !located) {
      problems.add("no source location");
    }
    if (r.all().contains("\tat ") || r.all().contains("Exception in thread")) {
      problems.add("stack trace");
    }
    Set<String> after = listing(dir);
    after.removeAll(before);
    if (!after.isEmpty()) {
      problems.add("left files " + after);
    }
    if (cwdBefore != null) {
      Set<String> cwdAfter = listing(Path.of("").toAbsolutePath()).stream().filter(p -> !p.startsWith("target"))
          .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
      cwdAfter.removeAll(cwdBefore);
      if (!cwdAfter.isEmpty()) {
        problems.add("wrote into the working directory " + cwdAfter);
      }
    }
    results.add(new Result(kind, name, r.exit(), codes, located, needLocation, r.millis(), problems, note, firstError(r)));
  }

  // ---------------------------------------------------------------------------------------------

  private static final String MLP = """
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
    return Npy.toBytes(dt.isFloat() ? Tensor.ofFloats(dt, shape, new float[n]) : Tensor.ofLongs(dt, shape, new long[n]));
  }

  /** y = x + w, x and w f32[4]; {@code w} given by the caller (initializer or sparse initializer). */
  @Test
  void everyClassOfBadInputEndsInADiagnosticAndACleanExit() throws Exception {
    // 1. syntax errors
    run("syntax errors", "missing ')'", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = relu(x\n}\n"));
    run("syntax errors", "stray token", true, () -> compile("a.cmod", "model M {\n  input x: f32[4] ]\n  output y = x\n}\n"));
    run("syntax errors", "incomplete pipe", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = x |>\n}\n"));
    run("syntax errors", "unterminated string", true, () -> compile("a.cmod", "import \"./b.cmod\nmodel M {}\n"));
    run("syntax errors", "unterminated comment", true, () -> compile("a.cmod", "model M {\n  /* input x: f32[4]\n"));
    run("syntax errors", "bad character", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = x $ x\n}\n"));
    run("syntax errors", "twenty errors in one file", true,
        () -> compile("a.cmod", "model M {\n" + "  let = = ;\n".repeat(30) + "}\n"));
    // 2. unknown names
    run("unknown names", "misspelled module", true, () -> compile("a.cmod", MLP.replace("Linear(8, 3)", "Linaer(8, 3)")));
    run("unknown names", "unknown builtin", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = relux(x)\n}\n"));
    run("unknown names", "not imported std module", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = x |> Mlp(4)\n}\n"));
    run("unknown names", "unknown std module", true, () -> compile("a.cmod", MLP.replace("{Linear}", "{Linear, Linearr}")));
    run("unknown names", "unknown named argument", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = softmax(x, axes = 1)\n}\n"));
    run("unknown names", "unknown model (--model)", false, () -> {
      String[] a = compile("a.cmod", MLP);
      return new String[] {a[0], a[1], a[2], a[3], "--model", "Mpl"};
    });
    // 3. shape and dtype mismatches
    run("shape/dtype mismatches", "matmul inner dim", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  param w: f32[5, 2]\n  output y = x @ w\n}\n"));
    run("shape/dtype mismatches", "broadcast", true, () -> compile("a.cmod", "model M {\n  input a: f32[4]\n  input b: f32[3]\n  output y = a + b\n}\n"));
    run("shape/dtype mismatches", "output type", true, () -> compile("a.cmod", MLP.replace("f32[3] =", "f32[4] =")));
    run("shape/dtype mismatches", "module argument", true, () -> compile("a.cmod", MLP.replace("Linear(8, 3)", "Linear(7, 3)")));
    run("shape/dtype mismatches", "reshape count", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = reshape(x, [batch, 3])\n}\n"));
    run("shape/dtype mismatches", "symbolic dims", true, () -> compile("a.cmod", "model M {\n  input a: Seq[s, 4]\n  input b: Seq[t, 4]\n  output y = a + b\n}\n"));
    run("shape/dtype mismatches", "exp of ids (i64)", true, () -> compile("a.cmod", "model M {\n  input t: Text[8] vocab 10\n  output y = exp(t)\n}\n"));
    run("shape/dtype mismatches", "ids into Linear", true, () -> compile("a.cmod", "import std.nn.{Linear}\nmodel M {\n  input t: Text[8] vocab 10\n  output y = t |> Linear(8, 2)\n}\n"));
    run("shape/dtype mismatches", "where on floats", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  output y = where(x, x, x)\n}\n"));
    // 4. absurdly large parameter
    run("absurdly large parameter", "param f32[100000, 100000]", true, () -> compile("a.cmod", "model M {\n  input x: f32[100000]\n  param w: f32[100000, 100000]\n  output y = x @ w\n}\n"));
    run("absurdly large parameter", "Linear(1000000, 1000000)", true, () -> compile("a.cmod", "import std.nn.{Linear}\nmodel M {\n  input x: f32[1000000]\n  output y = x |> Linear(1000000, 1000000)\n}\n"));
    run("absurdly large parameter", "dim 2^63-1", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  param w: f32[9223372036854775807, 2]\n  output y = x\n}\n"));
    run("absurdly large parameter", "dim 10^30 (literal overflow)", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  param w: f32[1000000000000000000000000000000]\n  output y = x\n}\n"));
    run("absurdly large parameter", "negative dim", true, () -> compile("a.cmod", "model M {\n  input x: f32[4]\n  param w: f32[-4]\n  output y = x + w\n}\n"));
    run("absurdly large parameter", "repeat(1000000000)", true, () -> compile("a.cmod", "import std.nn.{Linear}\nmodel M {\n  input x: f32[4]\n  output y = x |> repeat(1000000000) Linear(4, 4)\n}\n"));
    run("absurdly large parameter", "over the compute budget", true, () -> compile("a.cmod", "import std.nn.{Linear}\nmodel M {\n  compute tiny\n  input x: f32[1024]\n  output y = x |> Linear(1024, 1024) |> Linear(1024, 1024)\n}\n"));
    run("absurdly large parameter", "input f32[1T] run with random inputs", false, () -> new String[] {"run",
        write("a.cmod", "model M {\n  input x: f32[1T]\n  output y = relu(x)\n}\n").toString()});
    // 5. empty file
    run("empty file", "0 bytes", false, () -> compile("a.cmod", ""));
    run("empty file", "only comments and blank lines", false, () -> compile("a.cmod", "// nothing\n\n/* here */\n"));
    run("empty file", "only modules", false, () -> compile("a.cmod", "module Id(x: f32[...]) -> f32[...] {\n  x\n}\n"));
    // 6. binary garbage
    Random rnd = new Random(42);
    for (int i = 0; i < 3; i++) {
      byte[] junk = new byte[4096];
      rnd.nextBytes(junk);
      int k = i;
      run("binary garbage", "4 KiB random bytes #" + k, false, () -> {
        Path p = write("junk" + k + ".cmod", junk);
        return new String[] {"compile", p.toString(), "-o", dir.resolve("out.onnx").toString()};
      });
    }
    run("binary garbage", "PNG header", false, () -> {
      Path p = write("img.cmod", new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'});
      return new String[] {"compile", p.toString(), "-o", dir.resolve("out.onnx").toString()};
    });
    run("binary garbage", "ASCII with NUL and control bytes", true, () -> compile("a.cmod", "model M {\u0000\u0001\u0002\n  input x: f32[4]\n  output y = x\n}\n"));
    run("binary garbage", "5 MiB source (over the 4 MiB limit)", false, () -> compile("big.cmod", "// " + "x".repeat(5 << 20) + "\n"));
    // 7. deep nesting
    run("20 000 nested parentheses", "((((...x...))))", true, () -> compileNoOutputFlag("deep.cmod",
        "model M {\n  input x: f32[4]\n  output y = " + "(".repeat(20000) + "x" + ")".repeat(20000) + "\n}\n"));
    run("20 000 nested parentheses", "[[[[...]]]]", true, () -> compile("deep.cmod",
        "model M {\n  input x: f32[4]\n  output y = " + "[".repeat(20000) + "x" + "]".repeat(20000) + "\n}\n"));
    run("20 000 nested parentheses", "x + x + ... (20 000 terms, no brackets)", true, () -> compile("deep.cmod",
        "model M {\n  input x: f32[4]\n  output y = x" + " + x".repeat(20000) + "\n}\n"));
    run("20 000 nested parentheses", "x |> relu |> ... (20 000 stages)", true, () -> compile("deep.cmod",
        "model M {\n  input x: f32[4]\n  output y = x" + " |> relu".repeat(20000) + "\n}\n"));
    run("20 000 nested parentheses", "------x (20 000 unary minus)", true, () -> compile("deep.cmod",
        "model M {\n  input x: f32[4]\n  output y = " + "-".repeat(20000) + "x\n}\n"));
    // 8. imports
    run("import cycle", "a -> b -> a", true, () -> {
      write("b.cmod", "import \"./a.cmod\"\nconst B = 1\n");
      return compile("a.cmod", "import \"./b.cmod\"\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n");
    });
    run("import cycle", "self import", true, () -> compile("a.cmod", "import \"./a.cmod\"\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n"));
    run("import cycle", "missing import", true, () -> compile("a.cmod", "import \"./nope.cmod\"\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n"));
    run("import cycle", "33 files deep", true, () -> {
      for (int i = 1; i <= 34; i++) {
        write("c" + i + ".cmod", "import \"./c" + (i + 1) + ".cmod\"\nconst K" + i + " = " + i + "\n");
      }
      return compile("a.cmod", "import \"./c1.cmod\"\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n");
    });
    // 9. missing ONNX file
    run("missing ONNX file", "cmod run nope.onnx", false, () -> new String[] {"run", dir.resolve("nope.onnx").toString()});
    run("missing ONNX file", "import onnx \"nope.onnx\"", true, () -> compile("a.cmod", "import onnx \"nope.onnx\" as Enc\nmodel M {\n  input x: f32[4]\n  output y = x\n}\n"));
    run("missing ONNX file", "a folder named m.onnx", false, () -> {
      Files.createDirectories(dir.resolve("m.onnx"));
      return new String[] {"run", dir.resolve("m.onnx").toString()};
    });
    // 10. hostile ONNX files
    run("hostile ONNX file", "garbage bytes", false, () -> {
      byte[] junk = new byte[1000];
      new Random(7).nextBytes(junk);
      return new String[] {"run", write("junk.onnx", junk).toString()};
    });
    run("hostile ONNX file", "empty file", false, () -> new String[] {"run", write("empty.onnx", new byte[0]).toString()});
    run("hostile ONNX file", "truncated model", false, () -> {
      byte[] good = Files.readAllBytes(goodModel());
      return new String[] {"run", write("cut.onnx", Arrays.copyOf(good, good.length / 2)).toString()};
    });
    run("hostile ONNX file", "external data '../secret.bin'", false, () -> {
      write("secret.bin", OnnxModels.floats(7, 7, 7, 7));
      return new String[] {"run", write("m/ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "../secret.bin"), null)).toString()};
    });
    run("hostile ONNX file", "external data '/etc/passwd'", false,
        () -> new String[] {"run", write("ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "/etc/passwd"), null)).toString()});
    run("hostile ONNX file", "external data through a symlink", false, () -> {
      Path outside = write("outside.bin", OnnxModels.floats(7, 7, 7, 7));
      Files.createDirectories(dir.resolve("m"));
      Files.createSymbolicLink(dir.resolve("m/link.bin"), outside);
      return new String[] {"run", write("m/ext.onnx", OnnxModels.addModel(OnnxModels.external("w", "link.bin"), null)).toString()};
    });
    run("hostile ONNX file", "sparse initializer, external data '../secret.bin'", false, () -> {
      write("secret.bin", OnnxModels.floats(7, 7, 7, 7));
      SparseTensorProto sp = SparseTensorProto.newBuilder().addDims(4).setValues(OnnxModels.external("w", "../secret.bin"))
          .setIndices(TensorProto.newBuilder().setDataType(7).addDims(4).addInt64Data(0).addInt64Data(1)
              .addInt64Data(2).addInt64Data(3)).build();
      return new String[] {"run", write("m/sparse.onnx", OnnxModels.addModel(null, sp)).toString()};
    });
    run("hostile ONNX file", "raw_data shorter than its dims", false, () -> {
      TensorProto w = TensorProto.newBuilder().setName("w").setDataType(1).addDims(4)
          .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[8])).build();
      return new String[] {"run", write("short.onnx", OnnxModels.addModel(w, null)).toString()};
    });
    run("hostile ONNX file", "initializer dims 2^62 without data", false, () -> {
      TensorProto w = TensorProto.newBuilder().setName("w").setDataType(1).addDims(1L << 31).addDims(1L << 31).build();
      return new String[] {"run", write("huge.onnx", OnnxModels.addModel(w, null)).toString()};
    });
    // 11. weights files
    run("weights file", "misspelled path (--weights)", false, () -> {
      String[] a = compile("a.cmod", MLP);
      return new String[] {a[0], a[1], a[2], a[3], "--weights", dir.resolve("wieghts.safetensors").toString()};
    });
    run("weights file", "misspelled path (weights \"...\" in the model)", true,
        () -> compile("a.cmod", MLP.replace("  input x", "  weights \"wieghts.safetensors\"\n  input x")));
    run("weights file", "truncated", false, () -> {
      Map<String, Tensor> w = new TreeMap<>();
      w.put("l1.weight", Tensor.ofFloats(new long[] {4, 8}, new float[32]));
      byte[] b = Safetensors.toBytes(w, Map.of());
      Path p = write("w.safetensors", Arrays.copyOf(b, b.length - 10));
      String[] a = compile("a.cmod", MLP);
      return new String[] {a[0], a[1], a[2], a[3], "--weights", p.toString()};
    });
    run("weights file", "garbage", false, () -> {
      byte[] junk = new byte[256];
      new Random(3).nextBytes(junk);
      Path p = write("w.safetensors", junk);
      String[] a = compile("a.cmod", MLP);
      return new String[] {a[0], a[1], a[2], a[3], "--weights", p.toString()};
    });
    run("weights file", "wrong shape", false, () -> {
      Map<String, Tensor> w = new TreeMap<>();
      w.put("l1.weight", Tensor.ofFloats(new long[] {8, 4}, new float[32]));
      Path p = write("w.safetensors", Safetensors.toBytes(w, Map.of()));
      String[] a = compile("a.cmod", MLP);
      return new String[] {a[0], a[1], a[2], a[3], "--weights", p.toString()};
    });
    run("weights file", "unknown key", false, () -> {
      Map<String, Tensor> w = new TreeMap<>();
      w.put("l1.wieght", Tensor.ofFloats(new long[] {4, 8}, new float[32]));
      Path p = write("w.safetensors", Safetensors.toBytes(w, Map.of()));
      String[] a = compile("a.cmod", MLP);
      return new String[] {a[0], a[1], a[2], a[3], "--weights", p.toString()};
    });
    run("weights file", "a folder instead of a file", false, () -> {
      Files.createDirectories(dir.resolve("w.safetensors"));
      String[] a = compile("a.cmod", MLP);
      return new String[] {a[0], a[1], a[2], a[3], "--weights", dir.resolve("w.safetensors").toString()};
    });
    // 12. .npy inputs
    run("truncated .npy", "truncated data", false, () -> {
      byte[] b = npy(DType.F32, new long[] {2, 4});
      Path x = write("x.npy", Arrays.copyOf(b, b.length - 3));
      return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
    });
    run("truncated .npy", "truncated header", false, () -> {
      Path x = write("x.npy", Arrays.copyOf(npy(DType.F32, new long[] {2, 4}), 20));
      return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
    });
    run("truncated .npy", "not a .npy file", false, () -> {
      Path x = write("x.npy", "hello".getBytes(StandardCharsets.US_ASCII));
      return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
    });
    run("truncated .npy", "missing file", false,
        () -> new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + dir.resolve("nope.npy")});
    // 13. inputs of the wrong shape or type
    run("input of the wrong shape", "f32[2, 5] for f32[batch, 4]", false, () -> {
      Path x = write("x.npy", npy(DType.F32, new long[] {2, 5}));
      return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
    });
    run("input of the wrong shape", "rank 3 for rank 2", false, () -> {
      Path x = write("x.npy", npy(DType.F32, new long[] {2, 4, 1}));
      return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
    });
    run("input of the wrong shape", "i64 for f32", false, () -> {
      Path x = write("x.npy", npy(DType.I64, new long[] {2, 4}));
      return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "x=" + x};
    });
    run("input of the wrong shape", "unknown input name", false, () -> {
      Path x = write("x.npy", npy(DType.F32, new long[] {2, 4}));
      return new String[] {"run", write("a.cmod", MLP).toString(), "--input", "z=" + x};
    });
    run("input of the wrong shape", "wrong shape for an .onnx model", false, () -> {
      Path m = goodModel();
      Path x = write("x.npy", npy(DType.F32, new long[] {2, 5}));
      return new String[] {"run", m.toString(), "--input", "x=" + x};
    });
    run("input of the wrong shape", "inconsistent symbolic dim", false, () -> {
      Path a = write("a.npy", npy(DType.F32, new long[] {2, 3, 4}));
      Path b = write("b.npy", npy(DType.F32, new long[] {2, 5, 4}));
      Path src = write("s.cmod", "model M {\n  input a: Seq[s, 4]\n  input b: Seq[s, 4]\n  output y = a + b\n}\n");
      return new String[] {"run", src.toString(), "--input", "a=" + a, "--input", "b=" + b};
    });
    // 14. output paths
    run("output paths", "-o into a missing folder", false, () -> {
      Path src = write("a.cmod", MLP);
      return new String[] {"compile", src.toString(), "-o", dir.resolve("no/such/dir/out.onnx").toString()};
    });
    run("output paths", "--output-dir missing", false, () -> new String[] {"run", write("a.cmod", MLP).toString(),
        "--output-dir", dir.resolve("nope").toString()});
    run("output paths", "-o is a folder", false, "F6", () -> {
      Files.createDirectories(dir.resolve("out.onnx"));
      Path src = write("a.cmod", MLP);
      return new String[] {"compile", src.toString(), "-o", dir.resolve("out.onnx").toString()};
    });
    run("output paths", "export-weights -o is a folder", false, "F6", () -> {
      Files.createDirectories(dir.resolve("w.safetensors"));
      Path src = write("a.cmod", MLP);
      return new String[] {"export-weights", src.toString(), "-o", dir.resolve("w.safetensors").toString()};
    });
    run("output paths", "--output-dir holds a folder named y.npy", false, "F6", () -> {
      Files.createDirectories(dir.resolve("outs/y.npy"));
      return new String[] {"run", write("a.cmod", MLP).toString(), "--output-dir", dir.resolve("outs").toString()};
    });
    // 15. usage errors
    run("usage errors", "unknown option", false, () -> new String[] {"compile", "--frobnicate"});
    run("usage errors", "two -O levels", false, () -> {
      Path src = write("a.cmod", MLP);
      return new String[] {"compile", src.toString(), "-O0", "-O2"};
    });

    if (Boolean.getBoolean("cmod.reliability.full")) {
      childCases();
    }
    writeTable();
    List<String> failures = new ArrayList<>();
    for (Result r : results) {
      if (!r.problems().isEmpty() && r.note().isEmpty()) {
        failures.add(r.kind() + " / " + r.name() + ": " + r.problems());
      }
    }
    assertTrue(failures.isEmpty(), "cases that broke the promise:\n" + String.join("\n", failures));
  }

  /** Cases in child JVMs: 1 GiB heap (memory), or another working directory (external data). */
  private void childCases() throws Exception {
    // a safetensors file whose 4096 entries all name the same 1 MiB: 4 GiB of tensors from a 1.4 MiB file
    dir = Files.createDirectories(root.resolve("child-overlap"));
    StringBuilder h = new StringBuilder("{");
    for (int i = 0; i < 4096; i++) {
      h.append(i > 0 ? "," : "").append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[262144],\"data_offsets\":[0,1048576]}");
    }
    h.append('}');
    byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + (1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header);
    Path w = write("overlap.safetensors", b.array());
    Path src = write("a.cmod", MLP);
    child("weights file", "4096 entries sharing 1 MiB (4 GiB decoded), -Xmx1g", "1g", dir, "F5",
        "compile", src.toString(), "-o", dir.resolve("out.onnx").toString(), "--weights", w.toString());

    dir = Files.createDirectories(root.resolve("child-params"));
    src = write("a.cmod", "import std.nn.{Linear}\nmodel M {\n  input x: f32[4096]\n  output y = x |> repeat(64) Linear(4096, 4096)\n}\n");
    child("absurdly large parameter", "64 x Linear(4096, 4096): 4 GiB of parameters, -Xmx1g", "1g", dir, "",
        "compile", src.toString(), "-o", dir.resolve("out.onnx").toString());

    dir = Files.createDirectories(root.resolve("child-route"));
    src = write("a.cmod", "model M {\n  input x: f32[1073741824]\n  output y = route x to [x] by soft\n}\n");
    child("absurdly large parameter", "routing gate f32[2^30, 1] (past the 2^28 limit), -Xmx1g", "1g", dir, "F3 (fixed)",
        "compile", src.toString(), "-o", dir.resolve("out.onnx").toString());

    // valid external data next to a model is not bad input: FindingsTest.f4 checks that it runs (F4, fixed)
  }

  private void child(String kind, String name, String heap, Path cwd, String note, String... args) throws Exception {
    Set<String> before = listing(dir);
    Cli.Run r = Cli.child(cwd, heap, 300, args);
    String n = note;
    if (r.all().contains("42.0")) {
      n = n + " read the working directory's w.bin";
    }
    if (r.err().contains("E:onnxruntime")) {
      n = n + " (+ ONNX Runtime's own [E:onnxruntime] log line on stderr)";
    }
    record(kind, name, false, r, before, null, n);
  }

  private void writeTable() throws IOException {
    Map<String, List<Result>> byKind = new LinkedHashMap<>();
    for (Result r : results) {
      byKind.computeIfAbsent(r.kind(), k -> new ArrayList<>()).add(r);
    }
    StringBuilder sb = new StringBuilder();
    sb.append("| class of bad input | cases | exit codes | diagnostic codes | located | max time | outcome |\n");
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
          bad.add(r.name() + ": " + (r.note().isEmpty() ? "" : "finding " + r.note() + " ") + r.problems());
        }
      }
      sb.append("| ").append(e.getKey()).append(" | ").append(e.getValue().size()).append(" | ")
          .append(join(exits)).append(" | ").append(String.join(" ", codes)).append(" | ")
          .append(located).append("/").append(e.getValue().size()).append(need > 0 && need < e.getValue().size() ? " (" + need + " in a program)" : "").append(" | ")
          .append(String.format(Locale.ROOT, "%.2f s", max / 1000.0)).append(" | ")
          .append(bad.isEmpty() ? "ok" : String.join("; ", bad).replace("|", "\\|")).append(" |\n");
    }
    sb.append("\nPer case:\n\n| class | case | exit | codes | located | time | problems | first error line |\n|---|---|---|---|---|---|---|---|\n");
    for (Result r : results) {
      sb.append("| ").append(r.kind()).append(" | ").append(r.name().replace("|", "\\|")).append(" | ").append(r.exit())
          .append(" | ").append(String.join(" ", r.codes())).append(" | ")
          .append(r.needLocation() ? (r.located() ? "yes" : "NO") : (r.located() ? "yes" : "-")).append(" | ")
          .append(String.format(Locale.ROOT, "%.2f s", r.millis() / 1000.0)).append(" | ")
          .append((r.note() + " " + (r.problems().isEmpty() ? "" : r.problems())).trim().replace("|", "\\|")).append(" | ")
          .append(r.firstError().replace("|", "\\|").replace("`", "'")).append(" |\n");
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
