package dev.cmod.compiler.sema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.Diagnostic;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.ir.graph.ImportedModule;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.OnnxImportService;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The options record of a compilation: its withers, and the services and values it carries. */
class CompileOptionsTest {
  static final SourceFile MLP =
      new SourceFile(
          "mlp.cmod",
          "import std.nn.{Linear}\n"
              + "model M {\n"
              + "  input x: f32[4]\n"
              + "  output y: f32[3] = x |> Linear(4, 3)\n"
              + "}\n");

  @Test
  void withersChangeOneChoiceAndKeepTheOthers() {
    CompileOptions d = CompileOptions.defaults();
    assertNull(d.model());
    assertNull(d.weightsFile());
    assertEquals(0, d.seed());
    assertEquals(2, d.optLevel());
    assertNull(d.onnxImports());
    assertEquals(Map.of(), d.weights());
    CompileOptions o = d.withModel("A").withSeed(7).withOptLevel(0).withWeightsFile(Path.of("w"));
    assertEquals(new CompileOptions("A", Path.of("w"), 7, 0, null, null, Map.of(), null, null), o);
    assertEquals(o, o.toBuilder().build());
  }

  @Test
  void weightsGivenInMemorySetParametersInTheirOrder() {
    Compilation.Result plain =
        Compilation.compile(MLP, null, CompileOptions.defaults().withOptLevel(0));
    assertTrue(plain.ok());
    Map<String, Tensor> given = new LinkedHashMap<>();
    for (Node n : plain.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        Tensor t = n.attrs().getTensor("value");
        float[] v = new float[t.size()];
        java.util.Arrays.fill(v, 0.25f);
        given.put(n.attrs().getString("path"), Tensor.ofFloats(t.shape(), v));
      }
    }
    assertFalse(given.isEmpty());
    given.put("nowhere.w", Tensor.scalar(1));
    CompileOptions o =
        CompileOptions.defaults().withOptLevel(0).toBuilder().weights(given, "memory").build();
    Compilation.Result r = Compilation.compile(MLP, null, o);
    List<Diagnostic> ds = r.diagnostics().all();
    assertEquals(1, ds.size(), ds::toString);
    assertEquals(DiagnosticCode.WEIGHTS_UNKNOWN_KEY, ds.get(0).code());
    assertTrue(ds.get(0).message().contains("'nowhere.w' in memory"), ds.get(0).message());

    given.remove("nowhere.w");
    Compilation.Result set =
        Compilation.compile(MLP, null, o.toBuilder().weights(given, "memory").build());
    assertTrue(set.ok(), () -> set.diagnostics().all().toString());
    List<String> seen = new ArrayList<>();
    for (Node n : set.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        String path = n.attrs().getString("path");
        seen.add(path);
        assertArrayEquals(given.get(path).floats(), n.attrs().getTensor("value").floats(), path);
      }
    }
    assertEquals(List.copyOf(given.keySet()), seen);
  }

  @Test
  void importOnnxUsesTheServiceOfTheOptionsAndNoOther(@TempDir Path dir) throws Exception {
    Files.write(dir.resolve("m.onnx"), new byte[] {1, 2, 3});
    Path src = dir.resolve("a.cmod");
    Files.writeString(
        src,
        "import onnx \"m.onnx\" as Enc\nmodel M {\n  input x: f32[4]\n  output y = Enc(x)\n}\n");

    Compilation.Result none = Compilation.compile(src, CompileOptions.defaults());
    assertEquals(DiagnosticCode.UNSUPPORTED, none.diagnostics().all().get(0).code());

    List<byte[]> checked = new ArrayList<>();
    OnnxImportService refusing =
        new OnnxImportService() {
          @Override
          public List<String> check(byte[] bytes, Path d) {
            checked.add(bytes);
            assertEquals(dir.toAbsolutePath(), d.toAbsolutePath());
            return List.of("three bytes are no model");
          }

          @Override
          public ImportedModule load(byte[] bytes, Path d, ImportedModule.Signature sig) {
            throw new AssertionError("a model that failed its check is not loaded");
          }
        };
    Compilation.Result r =
        Compilation.compile(src, CompileOptions.defaults().withOnnxImports(refusing));
    assertEquals(1, checked.size());
    assertArrayEquals(new byte[] {1, 2, 3}, checked.get(0));
    Diagnostic d = r.diagnostics().all().get(0);
    assertEquals(DiagnosticCode.ONNX_FILE, d.code());
    assertEquals("m.onnx is not a valid ONNX model: three bytes are no model", d.message());
  }
}
