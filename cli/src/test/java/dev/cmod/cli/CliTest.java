package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line end to end: exit codes, outputs, files written, and no stack traces for bad
 * input.
 */
class CliTest extends CommandLineHarness {
  @TempDir Path dir;

  private static final String MLP =
      """
      import std.nn.{Linear}
      model Mlp {
        input x: f32[4]
        let l1 = Linear(4, 8)
        output y: f32[3] = x |> l1 |> relu |> Linear(8, 3)
      }
      """;

  private Path write(String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  private void assertNoStackTrace() {
    assertFalse(err().contains("\tat "), "stack trace on stderr:\n" + err());
    assertFalse(err().contains("Exception"), "exception on stderr:\n" + err());
  }

  @Test
  void compileWritesOnlyTheOutputAndIsDeterministic() throws Exception {
    Path src = write("mlp.cmod", MLP);
    Path a = dir.resolve("a.onnx");
    Path b = dir.resolve("b.onnx");
    assertEquals(0, run("compile", src.toString(), "-o", a.toString()));
    assertEquals(0, run("compile", src.toString(), "-o", b.toString()));
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(
          List.of("a.onnx", "b.onnx", "mlp.cmod"),
          s.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void targetChoosesTheOpsetAndTheFusedOperators() throws Exception {
    Path src =
        write(
            "block.cmod",
            """
            import std.nn.{TransformerBlock}
            model B {
              input x: f32[batch, seq, 16]
              output y: f32[batch, seq, 16] = x |> TransformerBlock(16, 2)
            }
            """);
    java.util.Map<String, Long> want =
        java.util.Map.of("onnx17", 17L, "onnx20", 20L, "onnx23", 23L, "ort", 17L);
    for (var t : want.entrySet()) {
      Path out = dir.resolve(t.getKey() + ".onnx");
      assertEquals(0, run("compile", src.toString(), "--target", t.getKey(), "-o", out.toString()));
      var m = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(out));
      assertEquals(t.getValue(), m.getOpsetImport(0).getVersion(), t.getKey());
      assertEquals(t.getKey().equals("ort"), m.getOpsetImportCount() == 2, t.getKey() + " domains");
      assertEquals(0, run("run", out.toString()), err());
    }
    assertEquals(0, run("explain", src.toString(), "--target", "ort"));
    assertTrue(
        out().contains("target ort: fused MULTI_HEAD_ATTENTION x1, SKIP_LAYER_NORM_BIAS x1"),
        out());
    assertEquals(0, run("explain", src.toString()));
    assertFalse(out().contains("target onnx17:"), "no target line unless asked: " + out());
    assertEquals(2, run("compile", src.toString(), "--target", "onnx21"));
    assertTrue(err().contains("unknown target 'onnx21'"), err());
  }

  @Test
  void precisionF16CompilesRunsAndIsExplainedAndDeterministic() throws Exception {
    Path src =
        write(
            "block.cmod",
            """
            import std.nn.{TransformerBlock}
            model B {
              input x: f32[batch, seq, 16]
              output y: f32[batch, seq, 16] = x |> TransformerBlock(16, 2)
            }
            """);
    for (String t : List.of("onnx17", "ort")) {
      Path a = dir.resolve(t + "-a.onnx");
      Path b = dir.resolve(t + "-b.onnx");
      assertEquals(
          0,
          run("compile", src.toString(), "--precision", "f16", "--target", t, "-o", a.toString()));
      assertEquals(
          0,
          run("compile", src.toString(), "--target", t, "--precision", "f16", "-o", b.toString()));
      assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), t + ": same bytes");
      var m = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(a));
      assertTrue(
          m.getGraph().getInitializerList().stream().anyMatch(i -> i.getDataType() == 10),
          t + ": f16 weights");
      assertEquals(0, run("run", a.toString()), err());
    }
    assertEquals(0, run("run", src.toString(), "--precision", "f16"), err());
    assertEquals(0, run("explain", src.toString(), "--precision", "f16", "--target", "ort"));
    assertTrue(out().contains("precision f16: "), out());
    // one norm is SkipLayerNormalization (f16, f32 statistics), the other stays f32
    assertTrue(out().contains("kept in f32: layer_norm x1;"), out());
    assertTrue(out().contains("target ort: fused MULTI_HEAD_ATTENTION x1"), out());
    assertEquals(0, run("explain", src.toString(), "--precision", "f16"));
    assertTrue(out().contains("kept in f32: layer_norm x2;"), out());
    assertEquals(0, run("explain", src.toString(), "--precision", "f32"));
    assertTrue(out().contains("precision f32: as declared"), out());
    assertEquals(0, run("explain", src.toString()));
    assertFalse(out().contains("precision"), "no precision line unless asked: " + out());
    assertEquals(2, run("compile", src.toString(), "--precision", "f8"));
    assertTrue(err().contains("unknown precision 'f8'"), err());
  }

  @Test
  void compileErrorExitsOneWithLocatedDiagnosticAndWritesNothing() throws Exception {
    Path src =
        write(
            "bad.cmod",
            "model M {\n  input x: f32[4]\n  output y: f32[4] = x |> gelu |> Linaer(4, 4)\n}\n");
    Path out = dir.resolve("bad.onnx");
    assertEquals(1, run("compile", src.toString(), "-o", out.toString()));
    assertTrue(err().contains("bad.cmod:3:35: error[CM0100]: unknown name 'Linaer'"), err());
    assertTrue(err().contains("^^^^^^"), err());
    assertFalse(Files.exists(out));
    assertNoStackTrace();
  }

  @Test
  void jsonErrorFormat() throws Exception {
    Path src = write("bad.cmod", "model M {\n  input x: f32[4]\n  output y: f32[4] = x + q\n}\n");
    assertEquals(1, run("check", src.toString(), "--error-format", "json"));
    assertTrue(err().trim().startsWith("[{\"code\":\"CM0100\""), err());
    assertTrue(err().contains("\"line\":3"), err());
  }

  @Test
  void errorsPastTheShownOnesAreCountedInBothFormats() throws Exception {
    StringBuilder src = new StringBuilder("model M {\n  input x: f32[4]\n");
    for (int i = 0; i < 250; i++) {
      src.append("  let a").append(i).append(" = unknown").append(i).append('\n');
    }
    src.append("  output y: f32[4] = x\n}\n");
    Path f = write("many.cmod", src.toString());
    assertEquals(1, run("check", f.toString()));
    assertEquals(100, err().split("error\\[CM0100]", -1).length - 1, "errors shown");
    assertTrue(err().contains("error: and 150 more errors (the first 100 are shown)"), err());
    assertTrue(err().contains("could not compile: 250 errors"), err());
    assertEquals(1, run("check", f.toString(), "--error-format", "json"));
    com.google.gson.JsonArray a =
        com.google.gson.JsonParser.parseString(err().trim()).getAsJsonArray();
    assertEquals(101, a.size());
    assertEquals(
        "and 150 more errors not shown (250 in all)",
        a.get(100).getAsJsonObject().get("message").getAsString());
  }

  @Test
  void usageErrorsExitTwo() {
    assertEquals(2, run("compile"));
    assertEquals(2, run("frobnicate"));
    assertEquals(2, run("compile", "x.cmod", "--seed", "notanumber"));
    assertNoStackTrace();
  }

  @Test
  void missingFileExitsOne() {
    assertEquals(1, run("compile", dir.resolve("nope.cmod").toString()));
    assertTrue(err().contains("no such file"), err());
    assertNoStackTrace();
  }

  @Test
  void runWithGivenInputsWritesNpyOutputs() throws Exception {
    Path src = write("mlp.cmod", MLP);
    Path x = dir.resolve("x.npy");
    Npy.write(
        x, Tensor.ofFloats(new long[] {3, 4}, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    Path outDir = Files.createDirectory(dir.resolve("out"));
    assertEquals(
        0,
        run("run", src.toString(), "--input", "x=" + x, "--output-dir", outDir.toString()),
        err());
    Tensor y = Npy.read(outDir.resolve("y.npy"));
    assertArrayEquals(new long[] {3, 3}, y.shape());
    assertTrue(out().contains("y: f32[3, 3]"), out());
  }

  @Test
  void runRejectsWrongInputShape() throws Exception {
    Path src = write("mlp.cmod", MLP);
    Path x = dir.resolve("x.npy");
    Npy.write(x, Tensor.ofFloats(new long[] {2, 5}, new float[10]));
    assertEquals(1, run("run", src.toString(), "--input", "x=" + x));
    assertTrue(err().contains("axis 1 is 5, expected 4"), err());
    assertEquals(1, run("run", src.toString(), "--input", "z=" + x));
    assertTrue(err().contains("no input 'z'"), err());
    assertNoStackTrace();
  }

  @Test
  void runRejectsTruncatedNpy() throws Exception {
    Path src = write("mlp.cmod", MLP);
    Path x = dir.resolve("x.npy");
    byte[] good = Npy.toBytes(Tensor.ofFloats(new long[] {2, 4}, new float[8]));
    Files.write(x, java.util.Arrays.copyOf(good, good.length - 5));
    assertEquals(1, run("run", src.toString(), "--input", "x=" + x));
    assertNoStackTrace();
  }

  @Test
  void runsAnOnnxFileAndRejectsGarbage() throws Exception {
    Path src = write("mlp.cmod", MLP);
    Path model = dir.resolve("m.onnx");
    assertEquals(0, run("compile", src.toString(), "-o", model.toString()));
    assertEquals(0, run("run", model.toString()), err());
    assertTrue(out().contains("y: f32[2, 3]"), out());
    Path junk = write("junk.onnx", "this is not a protobuf \u0001\u0002");
    assertEquals(1, run("run", junk.toString()));
    assertTrue(err().contains("CM0501"), err());
    assertNoStackTrace();
  }

  @Test
  void cudaWithoutGpuIsAUserError() throws Exception {
    Path src = write("mlp.cmod", MLP);
    int code = run("run", src.toString(), "--device", "cuda");
    // a machine with a CUDA build of ONNX Runtime and a GPU runs it; this one must say why it
    // cannot
    if (code != 0) {
      assertEquals(1, code);
      assertTrue(err().toLowerCase().contains("cuda"), err());
    }
    assertNoStackTrace();
  }

  /** run and bench read --device the same way (bench used to run "gpu" and "tpu" on the CPU). */
  @Test
  void runAndBenchRefuseTheSameUnknownDevice() throws Exception {
    Path src = write("mlp.cmod", MLP);
    for (String command : new String[] {"run", "bench"}) {
      assertEquals(2, run(command, src.toString(), "--device", "tpu"), command);
      assertTrue(err().contains("--device must be cpu or cuda"), command + ": " + err());
      assertTrue(err().contains("usage: see `cmod " + command + " --help`"), err());
      int gpu =
          command.equals("bench")
              ? run(command, src.toString(), "--device", "gpu", "--runs", "1", "--warmup", "0")
              : run(command, src.toString(), "--device", "gpu");
      // gpu means cuda for both: it runs where CUDA is, and says why not where it is not
      if (gpu != 0) {
        assertEquals(1, gpu, command + ": " + err());
        assertTrue(err().toLowerCase().contains("cuda"), command + ": " + err());
      }
    }
    assertNoStackTrace();
  }

  /**
   * bench --against: two models of one file on the same inputs, interleaved, with their ratio; the
   * one doing 64 times the work is the slower; models with other inputs are refused.
   */
  @Test
  void benchAgainstComparesTwoModelsInterleaved() throws Exception {
    Path src =
        write(
            "pair.cmod",
            """
            import std.nn.{Linear}
            model Small {
              input x: f32[64, 256]
              output y: f32[64, 4] = x |> Linear(256, 4)
            }
            model Big {
              input x: f32[64, 256]
              output y: f32[64, 256] = x |> Linear(256, 256) |> Linear(256, 256) |> Linear(256, 256)
            }
            model Other {
              input z: f32[3]
              output y: f32[3] = z
            }
            """);
    assertEquals(
        0,
        run(
            "bench",
            src.toString(),
            "--model",
            "Big",
            "--against",
            "Small",
            "--threads",
            "1",
            "--runs",
            "9",
            "--warmup",
            "2"),
        err());
    String o = out();
    assertTrue(o.contains("model Big against Small (-O2"), o);
    assertTrue(o.contains("1 thread(s), 9 interleaved runs after 2 warm-up"), o);
    assertTrue(o.contains("onnxruntime cpu Big p50") && o.contains("onnxruntime cpu Small p50"), o);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("Big / Small \\(p50\\) +([0-9.]+)").matcher(o);
    assertTrue(m.find(), o);
    assertTrue(Double.parseDouble(m.group(1)) > 1, "Big does 64 times Small's work: " + o);
    assertEquals(1, run("bench", src.toString(), "--model", "Big", "--against", "Other"));
    assertTrue(err().contains("--against needs a model with the same inputs"), err());
    assertEquals(2, run("bench", src.toString(), "--threads", "-1"));
    assertNoStackTrace();
  }

  /** A model reduced to meet its token budget: a warning on compile, a section in explain. */
  @Test
  void explainListsStructureReduction() throws Exception {
    Path src =
        write(
            "long.cmod",
            """
            model Long {
              budget { tokens <= 64 }
              input x: f32[seq, 8] where seq <= 1000
              output y: f32[seq, 8] = attention(x, x, x)
            }
            """);
    assertEquals(0, run("compile", src.toString(), "-o", dir.resolve("long.onnx").toString()));
    assertTrue(err().contains("warning[CM0213]"), err());
    assertEquals(0, run("explain", src.toString()));
    String o = out();
    assertTrue(
        o.contains("  structure reduction (to meet the token budget):\n    attention at "), o);
    assertTrue(
        o.contains(
            "long.cmod:4:27 over up to 1000 tokens: keys and values average-pooled in windows of"
                + " 16 to 63 tokens (budget tokens <= 64)\n"),
        o);
    Files.writeString(src, Files.readString(src).replace("budget {", "budget strict {"));
    assertEquals(1, run("compile", src.toString(), "-o", dir.resolve("long.onnx").toString()));
    assertTrue(err().contains("error[CM0212]"), err());
    assertNoStackTrace();
  }

  @Test
  void explainCodeAndModel() throws Exception {
    assertEquals(0, run("explain", "CM0201"));
    assertTrue(out().contains("shape mismatch"), out());
    assertEquals(1, run("explain", "CM9999"));
    Path src = write("mlp.cmod", MLP);
    assertEquals(0, run("explain", src.toString()));
    String o = out();
    assertTrue(o.contains("model Mlp"), o);
    assertTrue(o.contains("l1.weight"), o);
    assertTrue(o.contains("Linear_0.weight"), o);
    // 4*8 + 8 + 8*3 + 3 = 67 parameters
    assertTrue(o.contains("parameters: 67 (trainable 67, frozen 0)"), o);
  }

  @Test
  void graphPrintsDot() throws Exception {
    Path src = write("mlp.cmod", MLP);
    assertEquals(0, run("graph", src.toString()));
    assertTrue(out().startsWith("digraph"), out());
    assertEquals(0, run("graph", src.toString(), "--format", "text", "-O0"));
    assertTrue(out().contains("matmul"), out());
  }

  @Test
  void deepNestingIsADiagnostic() throws Exception {
    String deep =
        "model M {\n  input x: f32[4]\n  output y: f32[4] = "
            + "(".repeat(20000)
            + "x"
            + ")".repeat(20000)
            + "\n}\n";
    Path src = write("deep.cmod", deep);
    assertEquals(1, run("check", src.toString()));
    assertTrue(err().contains("CM0004"), err());
    assertNoStackTrace();
  }

  @Test
  void binaryGarbageIsADiagnostic() throws Exception {
    Path src = dir.resolve("garbage.cmod");
    byte[] junk = new byte[4096];
    new java.util.Random(7).nextBytes(junk);
    Files.write(src, junk);
    assertEquals(1, run("check", src.toString()));
    assertNoStackTrace();
  }
}
