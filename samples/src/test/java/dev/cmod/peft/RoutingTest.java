package dev.cmod.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing ({@code route x to E by topk(k) | soft | index(i)}, language.md section 6) beyond its
 * parity cases (moe_* in the corpus): how the experts' factors are named, and that top-k really
 * drops experts.
 */
@Requires(Need.TORCH)
class RoutingTest {
  /**
   * The experts share the base's parameters; each adds its own factors beside them, named in the
   * order the experts are first applied: lora, lora1, lora2, lora3 on base.up.weight, and lora,
   * lora1 on base.down.weight (only e2 and e3 adapt "down").
   */
  @Test
  void loraExpertsShareTheBaseAndNumberTheirFactors() {
    Map<String, Tensor> p = ParityCase.named("moe_lora_topk").declared();
    TreeSet<String> expected =
        new TreeSet<>(
            Set.of(
                "Router_0.weight",
                "base.up.weight",
                "base.up.bias",
                "base.down.weight",
                "base.down.bias"));
    for (String t : new String[] {"lora", "lora1", "lora2", "lora3"}) {
      expected.add("base.up.weight." + t + "_a");
      expected.add("base.up.weight." + t + "_b");
    }
    for (String t : new String[] {"lora", "lora1"}) {
      expected.add("base.down.weight." + t + "_a");
      expected.add("base.down.weight." + t + "_b");
    }
    assertEquals(expected, p.keySet());
    assertEquals(4, p.get("base.up.weight.lora3_a").dim(1), "e3 has rank 4");
    assertEquals(
        4,
        p.get("base.down.weight.lora1_b").dim(0),
        "e3's down factor is the second on base.down.weight");
    assertEquals(16, p.get("Router_0.weight").dim(0));
    assertEquals(4, p.get("Router_0.weight").dim(1));
  }

  /** Not vacuous: top-2 really drops experts (differs from the dense mixture of the same gate). */
  @Test
  void topkDiffersFromSoft(@TempDir Path tmp) throws IOException {
    ParityCase c = ParityCase.named("moe_example");
    Path cmod = c.program();
    String src = Files.readString(cmod).replace("by topk(2)", "by soft");
    assertTrue(src.contains("by soft"));
    Path soft = tmp.resolve("moe_example_soft.cmod");
    Files.writeString(soft, src);
    Path w = c.dir().resolve("weights.safetensors");
    for (PyParity.Run run : PyParity.runs(c.dir())) {
      Tensor a = PyParity.outputs(cmod, w, 0, 2, run.inputs()).get("y");
      Tensor b = PyParity.outputs(soft, w, 0, 2, run.inputs()).get("y");
      assertTrue(
          PyParity.maxAbsDiff(a, b) > 1e-3,
          "top-2 and soft give the same output: " + PyParity.maxAbsDiff(a, b));
    }
  }
}
