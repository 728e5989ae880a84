package dev.cmod.parity;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corpus case's PyTorch weights changed so that they no longer fit the program are a compile
 * error naming the key, never ignored and never a silent mismatch.
 */
@Requires(Need.TORCH)
class WeightsDiagnosticsTest {
  @TempDir Path tmp;

  /** A key that names no parameter (here a third inline Linear). */
  @Test
  void anUnknownKeyIsACompileError() {
    assertError(
        "mlp_inline",
        w -> w.put("Linear_2.bias", Tensor.ofFloats(new long[] {4}, new float[4])),
        DiagnosticCode.WEIGHTS_UNKNOWN_KEY,
        "Linear_2.bias");
  }

  /** A LoRA factor stored in PyTorch's layout ([out, r] instead of [r, out]). */
  @Test
  void aTransposedFactorIsAShapeError() {
    assertError(
        "lora_mlp",
        w -> {
          Tensor b = w.get("base.up.weight.lora_b");
          w.put("base.up.weight.lora_b", b.reshape(new long[] {b.dim(1), b.dim(0)}));
        },
        DiagnosticCode.WEIGHTS_SHAPE,
        "base.up.weight.lora_b");
  }

  private void assertError(
      String name, Consumer<Map<String, Tensor>> change, DiagnosticCode code, String key) {
    ParityCase c = ParityCase.named(name);
    Map<String, Tensor> w = new TreeMap<>(Safetensors.read(c.dir().resolve("weights.safetensors")));
    change.accept(w);
    Path f = tmp.resolve("weights.safetensors");
    Safetensors.write(f, w, null);
    Compilation.Result r =
        Compilation.compile(c.program(), CompileOptions.defaults().withWeightsFile(f));
    assertFalse(r.ok(), name + ": the changed weights must fail the compile");
    assertTrue(
        r.diagnostics().all().stream().anyMatch(d -> d.code() == code && d.message().contains(key)),
        "expected a " + code + " error naming " + key + ", got:\n" + PyParity.render(r));
  }
}
