package dev.cmod.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IA3 ({@code base with ia3 on "up"}) beyond its parity case (ia3_mlp in the corpus): {@code
 * base.up.weight.ia3: [out]} starts at ones, and so does the second IA3 on that weight ({@code
 * .ia31}), over a LoRA; without {@code .ia3} in the weights the model is exactly the base.
 */
@Requires(Need.TORCH)
class Ia3Test {
  static final ParityCase IA3_MLP = ParityCase.named("ia3_mlp");

  @Test
  void ia3VectorPathAndShape() {
    Map<String, Tensor> p = IA3_MLP.declared();
    for (String k : List.of("base.up.weight.ia3", "base.up.weight.ia31")) {
      assertEquals(List.of(32L), PyParity.shape(p.get(k)), k);
      for (int i = 0; i < p.get(k).size(); i++) {
        assertEquals(1.0, p.get(k).get(i), k + " starts at ones");
      }
    }
  }

  /** Without .ia3 in the weights file the scale is ones: exactly the base's output. */
  @Test
  void freshIa3LeavesTheBaseUnchanged(@TempDir Path tmp) {
    Path weights = tmp.resolve("w.safetensors");
    Set<String> dropped = PyParity.writeWithout(IA3_MLP.dir(), k -> k.endsWith(".ia3"), weights);
    assertEquals(Set.of("base.up.weight.ia3"), dropped);
    PyParity.assertFreshKeepsBase(
        IA3_MLP, "fresh ia3", weights, dropped, "base_y", Set.of("y"), 0.1);
  }
}
