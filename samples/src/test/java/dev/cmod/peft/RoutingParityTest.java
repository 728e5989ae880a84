package dev.cmod.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing ({@code route x to E by topk(k) | soft | index(i)}, language.md section 6) against
 * PyTorch: gate {@code Router_<n>.weight: [d, n_experts]}, {@code p = softmax(x @ W)}; top-k keeps
 * the k largest per token and renormalizes; soft uses p; index picks expert {@code i[b]} per
 * example.
 */
@Requires(Need.TORCH)
class RoutingParityTest {
  @TempDir static Path out;

  @BeforeAll
  static void generate() {
    PyParity.PEFT.generate(out, "moe_lora_topk", "moe_soft", "moe_index", "moe_example");
  }

  /** Token-level top-2 over four LoRA experts of one shared base Mlp (x: f32[batch, seq, 16]). */
  @Test
  void mixtureOfLoraExpertsTop2() {
    PyParity.PEFT.checkCase("moe_lora_topk", out);
  }

  /**
   * The experts share the base's parameters; each adds its own factors beside them, named in the
   * order the experts are first applied: lora, lora1, lora2, lora3 on base.up.weight, and lora,
   * lora1 on base.down.weight (only e2 and e3 adapt "down").
   */
  @Test
  void loraExpertsShareTheBaseAndNumberTheirFactors() {
    Compilation.Result r =
        PyParity.compile(PyParity.PEFT.resource("moe_lora_topk.cmod"), null, 0, 0, "moe_lora_topk");
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
    assertEquals(expected, PyParity.paramPaths(r.graph()));
    Map<String, Tensor> p = PyParity.paramValues(r.graph());
    assertEquals(4, p.get("base.up.weight.lora3_a").dim(1), "e3 has rank 4");
    assertEquals(
        4,
        p.get("base.down.weight.lora1_b").dim(0),
        "e3's down factor is the second on base.down.weight");
    assertEquals(16, p.get("Router_0.weight").dim(0));
    assertEquals(4, p.get("Router_0.weight").dim(1));
  }

  /** Dense softmax mixture (Router_0) and top-1 (Router_1) over one list of experts. */
  @Test
  void softAndTop1Routing() {
    PyParity.PEFT.checkCase("moe_soft", out);
  }

  /**
   * Fixed routing by a Class[3] input: example b uses expert lang[b], for a sequence x and a vector
   * v per example.
   */
  @Test
  void indexRoutingByAClassInput() {
    PyParity.PEFT.checkCase("moe_index", out);
  }

  /**
   * Example-level top-2 (x: f32[batch, 16]) inside a module: moe.Router_0.weight,
   * moe.experts.<i>.*.
   */
  @Test
  void exampleLevelTop2InsideAModule() {
    PyParity.PEFT.checkCase("moe_example", out);
  }

  /** Not vacuous: top-2 really drops experts (differs from the dense mixture of the same gate). */
  @Test
  void topkDiffersFromSoft(@TempDir Path tmp) throws java.io.IOException {
    Path cmod = PyParity.PEFT.resource("moe_example.cmod");
    String src = java.nio.file.Files.readString(cmod).replace("by topk(2)", "by soft");
    assertTrue(src.contains("by soft"));
    Path soft = tmp.resolve("moe_example_soft.cmod");
    java.nio.file.Files.writeString(soft, src);
    Path caseDir = out.resolve("moe_example");
    Path w = caseDir.resolve("weights.safetensors");
    for (PyParity.Run run : PyParity.PEFT.runs(caseDir)) {
      Tensor a = PyParity.outputs(cmod, w, 0, 2, run.inputs()).get("y");
      Tensor b = PyParity.outputs(soft, w, 0, 2, run.inputs()).get("y");
      assertTrue(
          PyParity.maxAbsDiff(a, b) > 1e-3,
          "top-2 and soft give the same output: " + PyParity.maxAbsDiff(a, b));
    }
  }
}
