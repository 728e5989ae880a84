package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Structure reduction for the token budget on ONNX Runtime: a transformer block over up to 64
 * positions with a budget of 16 (keys and values of [batch, heads, seq, head_dim] pooled in windows
 * of 4) and a bare attention over [batch, seq, e] (rank 3), at -O0 and -O2, at the bound and at
 * lengths whose last window is partial: ONNX Runtime equals the interpreter, and -O2 equals -O0.
 */
class StructureReductionOrtTest {
  private static final String BLOCK =
      """
      import std.nn.{TransformerBlock}
      model M {
        budget { tokens <= 16 }
        input x: Seq[seq, 16] where seq <= 64
        output y: f32[seq, 16] = x |> TransformerBlock(16, 2)
      }
      """;

  private static final String BARE =
      """
      model M {
        budget { tokens < 5 }
        input x: f32[seq, 6] where seq <= 9
        output y: f32[seq, 6] = attention(x, x * 0.5, x)
      }
      """;

  @Test
  void reducedModelsRunAlikeOnOrtAndTheInterpreter() {
    for (String src : new String[] {BLOCK, BARE}) {
      E2E.Built o0 = E2E.compileText(src, E2E.opts(0));
      E2E.Built o2 = E2E.compileText(src, E2E.opts(2));
      assertEquals(2, pools(o0), "keys and values pooled");
      assertEquals(2, pools(o2));
      for (long seq : src.equals(BLOCK) ? new long[] {64, 61, 3} : new long[] {9, 7, 1}) {
        Map<String, Tensor> in = E2E.inputs(o0, Map.of("batch", 2L, "seq", seq), seq);
        Tensor a = E2E.assertOrtMatchesInterpreter(o0, in, 1e-5, 1e-5).get("y");
        Tensor b = E2E.assertOrtMatchesInterpreter(o2, in, 1e-5, 1e-5).get("y");
        E2E.assertClose(a, b, 1e-5, 1e-5, "-O2 against -O0 at seq " + seq);
        assertEquals(seq, a.shape()[1], "queries keep their length");
      }
    }
  }

  private static int pools(E2E.Built b) {
    int k = 0;
    for (Node n : b.graph().nodes()) {
      k += n.op() == Op.AVG_POOL2D ? 1 : 0;
    }
    return k;
  }
}
