package dev.cmod.parity;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Programs written from language.md alone, against PyTorch: inline instance names ({@code
 * Linear_0}, {@code Linear_1}) and a two-layer transformer encoder with its own modules over a
 * [batch, seq, 32] input, run at two (batch, seq) sizes. Two negative controls show the harness
 * catches a wrong layout and a wrong key.
 */
@Requires(Need.TORCH)
class LanguageParityTest {
  @TempDir static Path out;

  @BeforeAll
  static void generate() {
    PyParity.PARITY.generate(out, "mlp_inline", "own_encoder");
  }

  @Test
  void twoLayerMlpWithInlineInstances() {
    PyParity.PARITY.checkCase("mlp_inline", out);
  }

  @Test
  void ownTransformerEncoderAtTwoSizes() {
    PyParity.PARITY.checkCase("own_encoder", out);
  }

  /**
   * Harness sanity: the same data with one square weight transposed (PyTorch's layout) must fail.
   */
  @Test
  void aTransposedWeightIsCaught(@TempDir Path tmp) throws IOException {
    Path src = out.resolve("own_encoder");
    PyParity.copyRuns(src, tmp);
    Map<String, Tensor> w = new TreeMap<>(Safetensors.read(src.resolve("weights.safetensors")));
    w.put("layers.1.attn.wv", transpose(w.get("layers.1.attn.wv")));
    Safetensors.write(tmp.resolve("weights.safetensors"), w, null);
    assertThrows(
        AssertionError.class,
        () ->
            PyParity.PARITY.check(
                "own_encoder (wv transposed)", PyParity.PARITY.resource("own_encoder.cmod"), tmp));
  }

  /**
   * A key that names no parameter (here a third inline Linear) is a compile error, never ignored.
   */
  @Test
  void anUnknownKeyIsACompileError(@TempDir Path tmp) {
    Map<String, Tensor> w =
        new TreeMap<>(Safetensors.read(out.resolve("mlp_inline/weights.safetensors")));
    w.put("Linear_2.bias", Tensor.ofFloats(new long[] {4}, new float[4]));
    Path f = tmp.resolve("weights.safetensors");
    Safetensors.write(f, w, null);
    Compilation.Result r =
        Compilation.compile(
            PyParity.PARITY.resource("mlp_inline.cmod"),
            CompileOptions.defaults().withWeightsFile(f));
    assertFalse(r.ok(), "a stray key must fail the compile");
    assertTrue(
        r.diagnostics().all().stream()
            .anyMatch(
                d ->
                    d.code() == DiagnosticCode.WEIGHTS_UNKNOWN_KEY
                        && d.message().contains("Linear_2.bias")),
        "expected a WEIGHTS_UNKNOWN_KEY error naming Linear_2.bias, got " + r.diagnostics().all());
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
}
