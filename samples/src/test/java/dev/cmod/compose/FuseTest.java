package dev.cmod.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.PyParity;
import dev.cmod.testkit.Requires;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * AdapterFusion ({@code fuse(x, [a, b])}, language.md section 6) against PyTorch: gate {@code
 * Fuse_<n>.{query,key,value}: [d, d]}, scores (x Q)·(o_i K)/√d softmaxed over the modules, result Σ
 * p_i (o_i V); over two Mlps, the pipe form over the reversed list, and over two adapter
 * compositions of one base Mlp.
 */
@Requires(Need.TORCH)
class FuseTest {
  @Test
  void gateParameters() {
    Map<String, Tensor> p = ParityCase.named("fuse").declared();
    for (int i = 0; i < 3; i++) {
      for (String n : new String[] {"query", "key", "value"}) {
        assertEquals(
            List.of(16L, 16L), PyParity.shape(p.get("Fuse_" + i + "." + n)), "Fuse_" + i + "." + n);
      }
    }
    assertEquals(
        List.of(32L, 4L),
        PyParity.shape(p.get("base.down.tb.down.weight")),
        "a parallel adapter reads the 32 features of down's input");
  }
}
