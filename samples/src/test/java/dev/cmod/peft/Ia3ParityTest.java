package dev.cmod.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IA3 ({@code base with ia3 on "up"}): {@code base.up.weight.ia3: [out]} (init ones) scales the
 * weight per output feature, {@code W' = W * l} (the bias is not scaled); and IA3 on top of a LoRA
 * of the same weight, {@code (W + (alpha/r) A @ B) * l}, whose IA3 is the second one on that weight
 * ({@code .ia31}).
 */
@Requires(Need.TORCH)
class Ia3ParityTest {
  @TempDir static Path out;

  @BeforeAll
  static void generate() {
    PyParity.PEFT.generate(out, "ia3_mlp");
  }

  @Test
  void ia3AndIa3OverLoraMatchPyTorch() {
    PyParity.PEFT.checkCase("ia3_mlp", out);
  }

  @Test
  void ia3VectorPathAndShape() {
    Compilation.Result r =
        PyParity.compile(PyParity.PEFT.resource("ia3_mlp.cmod"), null, 0, 0, "ia3_mlp");
    Map<String, Tensor> p = PyParity.paramValues(r.graph());
    assertEquals(
        List.of(32L),
        java.util.Arrays.stream(p.get("base.up.weight.ia3").shape()).boxed().toList());
    assertEquals(
        List.of(32L),
        java.util.Arrays.stream(p.get("base.up.weight.ia31").shape()).boxed().toList());
    for (String k : List.of("base.up.weight.ia3", "base.up.weight.ia31")) {
      for (int i = 0; i < p.get(k).size(); i++) {
        assertEquals(1.0, p.get(k).get(i), k + " starts at ones");
      }
    }
  }

  /** Without .ia3 in the weights file the scale is ones: exactly the base's output. */
  @Test
  void freshIa3LeavesTheBaseUnchanged(@TempDir Path tmp) {
    Path caseDir = out.resolve("ia3_mlp");
    Path weights = tmp.resolve("w.safetensors");
    Set<String> dropped = PyParity.writeWithout(caseDir, k -> k.endsWith(".ia3"), weights);
    assertEquals(Set.of("base.up.weight.ia3"), dropped);
    Path cmod = PyParity.PEFT.resource("ia3_mlp.cmod");
    for (PyParity.Run run : PyParity.PEFT.runs(caseDir)) {
      for (int level : PyParity.LEVELS) {
        Map<String, Tensor> got = PyParity.outputs(cmod, weights, 0, level, run.inputs());
        String at = "fresh ia3 -O" + level;
        assertTrue(
            PyParity.bitwiseEqual(got.get("base_y"), got.get("y")),
            at
                + ": y differs from base_y by "
                + PyParity.maxAbsDiff(got.get("base_y"), got.get("y")));
        E2E.assertClose(
            run.expected().get("base_y"),
            got.get("y"),
            PyParity.PEFT.rtol(),
            PyParity.PEFT.atol(),
            at);
        assertTrue(
            PyParity.maxAbsDiff(run.expected().get("y"), run.expected().get("base_y")) > 0.1,
            at + ": IA3 effect too small");
      }
    }
  }
}
