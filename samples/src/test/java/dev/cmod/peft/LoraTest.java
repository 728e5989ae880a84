package dev.cmod.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA ({@code base with lora(rank, alpha) on PATTERNS}, language.md section 9) beyond its parity
 * cases (lora_* in the corpus): the factors' paths and shapes, a fresh LoRA (no factors in the
 * weights file) leaves the base's outputs exactly unchanged, and two LoRAs chained in one
 * expression.
 */
@Requires(Need.TORCH)
class LoraTest {
  static final ParityCase LORA_MLP = ParityCase.named("lora_mlp");

  /** The factors' keys and shapes are exactly what language.md section 9 promises. */
  @Test
  void factorPathsAndShapes() {
    Map<String, Tensor> w = Safetensors.read(LORA_MLP.dir().resolve("weights.safetensors"));
    Map<String, Tensor> p = LORA_MLP.declared();
    assertEquals(
        Set.of(
            "base.up.weight",
            "base.up.bias",
            "base.down.weight",
            "base.down.bias",
            "base.up.weight.lora_a",
            "base.up.weight.lora_b",
            "base.down.weight.lora_a",
            "base.down.weight.lora_b"),
        p.keySet());
    assertEquals(List.of(16L, 4L), PyParity.shape(p.get("base.up.weight.lora_a")));
    assertEquals(List.of(4L, 32L), PyParity.shape(p.get("base.up.weight.lora_b")));
    assertEquals(List.of(32L, 4L), PyParity.shape(p.get("base.down.weight.lora_a")));
    assertEquals(List.of(4L, 16L), PyParity.shape(p.get("base.down.weight.lora_b")));
    for (String k : p.keySet()) {
      assertEquals(PyParity.shape(w.get(k)), PyParity.shape(p.get(k)), k);
    }
  }

  /**
   * A fresh LoRA: lora_b starts at zeros, lora_a at kaiming (non-zero), so the adapted model gives
   * exactly (bit for bit) the base's outputs; both equal PyTorch's base output.
   */
  @Test
  void freshLoraLeavesTheBaseUnchanged(@TempDir Path tmp) {
    Path weights = tmp.resolve("base_only.safetensors");
    Set<String> dropped = PyParity.writeWithout(LORA_MLP.dir(), k -> k.contains(".lora_"), weights);
    assertEquals(
        Set.of(
            "base.up.weight.lora_a",
            "base.up.weight.lora_b",
            "base.down.weight.lora_a",
            "base.down.weight.lora_b"),
        dropped);
    Path cmod = LORA_MLP.program();
    Map<String, Tensor> init =
        PyParity.paramValues(PyParity.compile(cmod, weights, 0, 0, "fresh").graph());
    for (String k : dropped) {
      double maxAbs = PyParity.maxAbs(init.get(k));
      if (k.endsWith("_b")) {
        assertEquals(0.0, maxAbs, k + " must start at zeros");
      } else {
        assertTrue(maxAbs > 0, k + " must start random (kaiming), not zeros");
      }
    }
    PyParity.assertFreshKeepsBase(
        LORA_MLP, "fresh lora", weights, dropped, "base_y", Set.of("y"), 0.1);
  }

  /**
   * {@code base with lora(...) on "up" with lora(...) on "up"} reads as the stack of two LoRAs;
   * today the second {@code with} binds to the string pattern {@code "up"} (the targets are parsed
   * as expressions) and the compile fails with "'with' composes a module instance, not the string".
   */
  @Test
  void chainedWithStacksTwoLoras(@TempDir Path tmp) throws IOException {
    String src =
        Files.readString(ParityCase.named("lora_stacked").program())
            .replace(
                "let first = base with lora(rank = 4, alpha = 8) on \"up\"\n  let both = first with",
                "let first = base with lora(rank = 4, alpha = 8) on \"up\"\n  let both = base with lora(rank = 4, alpha = 8) on \"up\" with");
    assertTrue(src.contains("on \"up\" with lora(rank = 2"), src);
    Compilation.Result r = PyParity.compileSource(tmp, "chained.cmod", src);
    assertTrue(r.ok(), PyParity.render(r));
  }
}
