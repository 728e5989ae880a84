package dev.cmod.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.onnx.OnnxImports;
import dev.cmod.onnx.OnnxRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cmod wrap}: the wrapper it writes compiles as written, and its artifact gives the original
 * file's outputs on ONNX Runtime, for the same inputs (the original is its own oracle).
 */
class WrapTest extends CommandLineHarness {
  @TempDir Path dir;

  /** A model with a symbolic sequence, two outputs and names that are not identifiers. */
  private static final String ORIGINAL =
      """
      import std.nn.{Linear}
      model Encoder {
        input tokens: f32[seq, 6] where seq <= 16
        let l = Linear(6, 4)
        output hidden: f32[seq, 4] = tanh(l(tokens))
        output pooled: f32[4] = mean(tanh(l(tokens)), 1)
      }
      """;

  @Test
  void theWrapperRunsLikeTheOriginal() throws Exception {
    Path src = dir.resolve("encoder.cmod");
    Files.writeString(src, ORIGINAL);
    Path onnx = dir.resolve("enc.onnx");
    assertEquals(0, run("compile", src.toString(), "-o", onnx.toString()), err());

    Path w = dir.resolve("sub/enc_wrapped.cmod");
    Files.createDirectories(w.getParent());
    assertEquals(0, run("wrap", onnx.toString(), "-o", w.toString()), err());
    String text = Files.readString(w);
    assertTrue(text.contains("import onnx \"../enc.onnx\" as Imported"), text);
    assertTrue(text.contains("model Enc {"), text);
    assertTrue(text.contains("input tokens: f32[seq, 6]"), text);
    assertTrue(text.contains("output hidden: f32[seq, 4] = results.0"), text);
    assertTrue(text.contains("output pooled: f32[4] = results.1"), text);

    // printed without -o: the same program, with the path relative to the current folder
    assertEquals(0, run("wrap", onnx.toString()));
    assertTrue(out().contains("model Enc {"), out());

    for (int level : new int[] {0, 2}) {
      Toolchain.Compiled c =
          Toolchain.compile(
              w,
              CompileOptions.defaults().withOptLevel(level).withOnnxImports(OnnxImports.SERVICE));
      assertTrue(c.ok(), () -> c.result().diagnostics().all().toString());
      Map<String, Tensor> in =
          Toolchain.randomInputs(c.result().graph(), null, Map.of("batch", 3L, "seq", 5L), 11);
      Map<String, Tensor> want;
      Map<String, Tensor> got;
      try (OnnxRunner a = OnnxRunner.open(onnx, OnnxRunner.Device.CPU);
          OnnxRunner b = OnnxRunner.open(c.onnx(), OnnxRunner.Device.CPU)) {
        want = a.run(in);
        got = b.run(in);
      }
      assertEquals(want.keySet(), got.keySet());
      for (String k : want.keySet()) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(
            want.get(k).shape(), got.get(k).shape(), k);
        for (int i = 0; i < want.get(k).size(); i++) {
          assertEquals(want.get(k).get(i), got.get(k).get(i), 1e-5, k + "[" + i + "]");
        }
      }
    }
  }

  @Test
  void identifiersAreMadeFromAnyName() {
    java.util.Set<String> used = new java.util.HashSet<>();
    assertEquals("input_1", Wrap.identifier("input.1", used, "x"));
    assertEquals("input_1_2", Wrap.identifier("input:1", used, "x"));
    assertEquals("model_", Wrap.identifier("model", used, "x"));
    assertEquals("v0", Wrap.identifier("0", used, "x"));
    assertEquals("x", Wrap.identifier("...", used, "x"));
    assertEquals("Squeezenet11", WrapCommand.camel("squeezenet1.1"));
    assertEquals("Model3d", WrapCommand.camel("3d"));
  }

  @Test
  void aFileThatIsNotAModelIsRefused() throws Exception {
    Path junk = dir.resolve("junk.onnx");
    Files.writeString(junk, "not a protobuf \u0001");
    assertEquals(1, run("wrap", junk.toString()));
    assertTrue(err().contains("CM0501"), err());
  }
}
