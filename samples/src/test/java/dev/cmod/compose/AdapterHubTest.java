package dev.cmod.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The AdapterHub composition blocks {@code base with stack(a, b)}, {@code parallel(a, b)}, {@code
 * average(a, b)} beyond their parity cases (adapterhub, adapterhub_repeat in the corpus): the
 * blocks' parameters and their algebra on the compiled model.
 */
@Requires(Need.TORCH)
class AdapterHubTest {
  static final ParityCase HUB = ParityCase.named("adapterhub");

  /**
   * The blocks reuse the members' parameter groups: one blk.ffn.a and one blk.ffn.b, no a1 / b1.
   */
  @Test
  void blocksShareTheMembersParameters() {
    TreeSet<String> extra = new TreeSet<>();
    for (String k : HUB.declared().keySet()) {
      if (!k.matches("blk\\.(ln[12]|attn\\.[qkvo]|ffn\\.(up|down))\\.[a-z]+")) {
        extra.add(k);
      }
    }
    assertEquals(
        new TreeSet<>(
            List.of(
                "blk.attn.q.weight.lora_a",
                "blk.attn.q.weight.lora_b",
                "blk.ffn.a.down.weight",
                "blk.ffn.a.down.bias",
                "blk.ffn.a.up.weight",
                "blk.ffn.a.up.bias",
                "blk.ffn.b.down.weight",
                "blk.ffn.b.down.bias",
                "blk.ffn.b.up.weight",
                "blk.ffn.b.up.bias")),
        extra);
  }

  /**
   * Algebra of the blocks on the block's output (its residual adds the ffn result unchanged):
   * parallel(a, b) = y_a + y_b - y, average(a, b) = (y_a + y_b) / 2, and stack(a, b) = parallel(a,
   * b) when b is a parallel adapter (it reads the ffn's input either way), while stack(b, a)
   * differs.
   */
  @Test
  void blockAlgebraOnTheCompiledModel() {
    for (PyParity.Run run : PyParity.runs(HUB.dir())) {
      for (int level : HUB.levels()) {
        Map<String, Tensor> y =
            PyParity.outputs(
                HUB.program(), HUB.dir().resolve("weights.safetensors"), 0, level, run.inputs());
        String at = "adapterhub -O" + level + " " + run.describe();
        Tensor ya = y.get("y_a");
        Tensor yb = y.get("y_b");
        Tensor base = y.get("base_y");
        float[] sum = new float[(int) ya.size()];
        float[] mean = new float[(int) ya.size()];
        for (int i = 0; i < sum.length; i++) {
          sum[i] = (float) (ya.get(i) + yb.get(i) - base.get(i));
          mean[i] = (float) ((ya.get(i) + yb.get(i)) / 2);
        }
        E2E.assertClose(
            Tensor.ofFloats(ya.dtype(), ya.shape(), sum),
            y.get("y_parallel"),
            1e-4,
            1e-5,
            at + ": parallel = y_a + y_b - y");
        E2E.assertClose(
            Tensor.ofFloats(ya.dtype(), ya.shape(), mean),
            y.get("y_average"),
            1e-4,
            1e-5,
            at + ": average = (y_a + y_b) / 2");
        E2E.assertClose(
            y.get("y_parallel"),
            y.get("y_stack"),
            1e-4,
            1e-5,
            at + ": stack(a, b) = parallel(a, b) with b parallel");
        assertTrue(
            PyParity.maxAbsDiff(y.get("y_stack"), y.get("y_stack_ba")) > 0.01,
            at + ": stack(b, a) must differ from stack(a, b)");
      }
    }
  }
}
