package dev.cmod.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Sparse routing end to end: a top-k mixture of experts compiled at -O2 (sparse dispatch: nonzero,
 * gather, expert, scatter_add) against the same program at -O0 (every expert on every token), on
 * the interpreter and on ONNX Runtime, at several token counts, k = 1 and 2, and with tokens whose
 * gate scores all tie (zero rows: the router scores every expert 0, and topk keeps the lowest
 * indices in both forms).
 */
class SparseRoutingOrtTest {
  private static String program(int k) {
    return """
        module Ffn(d: int, h: int)(x: f32[..., d]) -> f32[..., d] {
          param w1: f32[d, h] = init.xavier
          param b1: f32[h] = init.normal(0.5)
          param w2: f32[h, d] = init.xavier
          param b2: f32[d] = init.normal(0.5)
          gelu(x @ w1 + b1) @ w2 + b2
        }
        model Moe {
          input x: f32[seq, 16]
          let experts = [Ffn(16, 64), Ffn(16, 64), Ffn(16, 64), Ffn(16, 64),
                         Ffn(16, 64), Ffn(16, 64), Ffn(16, 64), Ffn(16, 64)]
          output y = x + route x to experts by topk(%d)
        }
        """
        .formatted(k);
  }

  private static long count(Graph g, Op op) {
    return g.nodes().stream().filter(n -> n.op() == op).count();
  }

  /** Zeroes every third token of x, so that its gate scores tie. */
  private static Map<String, Tensor> withTies(Map<String, Tensor> in) {
    Tensor x = in.get("x");
    float[] v = x.floats().clone();
    int d = (int) x.dim(x.rank() - 1);
    for (int t = 0; t * d < v.length; t += 3) {
      java.util.Arrays.fill(v, t * d, t * d + d, 0f);
    }
    Map<String, Tensor> out = new HashMap<>(in);
    out.put("x", Tensor.ofFloats(x.shape(), v));
    return out;
  }

  private static void check(E2E.Built dense, E2E.Built sparse, long batch, long seq, long seed) {
    Map<String, Tensor> in = withTies(E2E.inputs(sparse, Map.of("batch", batch, "seq", seq), seed));
    Tensor want = E2E.runInterp(dense.graph(), in).get("y");
    String at = "batch " + batch + ", seq " + seq;
    E2E.assertClose(want, E2E.runInterp(sparse.graph(), in).get("y"), 1e-5, 1e-5, at + " interp");
    E2E.assertClose(want, E2E.runOrt(sparse.onnx(), in).get("y"), 1e-5, 1e-5, at + " ORT");
    E2E.assertClose(want, E2E.runOrt(dense.onnx(), in).get("y"), 1e-5, 1e-5, at + " ORT -O0");
  }

  @Test
  void sparseDispatchEqualsTheDenseFormOnOnnxRuntime() {
    for (int k = 1; k <= 2; k++) {
      E2E.Built dense = E2E.compileText(program(k), E2E.opts(0));
      E2E.Built sparse = E2E.compileText(program(k), E2E.opts(2));
      assertEquals(0, count(dense.graph(), Op.NONZERO), "-O0 stays dense");
      assertEquals(8, count(sparse.graph(), Op.NONZERO), "-O2 dispatches to each expert");
      assertEquals(1, count(sparse.graph(), Op.SCATTER_ADD));
      long[][] shapes = {{1, 1}, {1, 7}, {2, 5}, {1, 40}, {3, 2}};
      for (int i = 0; i < shapes.length; i++) {
        check(dense, sparse, shapes[i][0], shapes[i][1], 11 * k + i);
      }
    }
  }

  /**
   * Tokens flattened to one axis before routing ({@code [batch*seq, 16]}): the rank-2 form of
   * dispatch (no reshape around it), on ONNX Runtime against -O0.
   */
  @Test
  void flatTokensDispatchAsWell() {
    String flat =
        program(2)
            .replace(
                "output y = x + route x to experts by topk(2)",
                "let t = reshape(x, [-1, 16])\n  output y = route t to experts by topk(2)");
    E2E.Built dense = E2E.compileText(flat, E2E.opts(0));
    E2E.Built sparse = E2E.compileText(flat, E2E.opts(2));
    assertEquals(8, count(sparse.graph(), Op.NONZERO));
    assertEquals(
        0,
        count(sparse.graph(), Op.RESHAPE) - 1,
        "only the program's own reshape: the tokens are already rows");
    for (long[] s : new long[][] {{1, 6}, {2, 9}}) {
      Map<String, Tensor> in = withTies(E2E.inputs(sparse, Map.of("batch", s[0], "seq", s[1]), 5));
      Tensor want = E2E.runInterp(dense.graph(), in).get("y");
      E2E.assertClose(want, E2E.runInterp(sparse.graph(), in).get("y"), 1e-5, 1e-5, "interp");
      E2E.assertClose(want, E2E.runOrt(sparse.onnx(), in).get("y"), 1e-5, 1e-5, "ORT");
    }
  }

  /** The samples with top-k routes: the -O2 artifact dispatches sparsely and keeps the numbers. */
  @Test
  void routedSamplesKeepTheirNumbers() {
    for (String f : new String[] {"moe_lora.cmod", "src/test/resources/peft/moe_lora_topk.cmod"}) {
      E2E.Built dense = E2E.compileFile(Path.of(f), E2E.opts(0));
      E2E.Built sparse = E2E.compileFile(Path.of(f), E2E.opts(2));
      assertTrue(count(sparse.graph(), Op.NONZERO) > 0, f + " is sparse at -O2");
      for (long seq : new long[] {1, 9, 33}) {
        Map<String, Tensor> in = E2E.inputs(sparse, Map.of("batch", 1L, "seq", seq), seq);
        Map<String, Tensor> want = E2E.runInterp(dense.graph(), in);
        Map<String, Tensor> ort = E2E.runOrt(sparse.onnx(), in);
        for (String o : want.keySet()) {
          E2E.assertClose(want.get(o), ort.get(o), 1e-5, 1e-5, f + " " + o + " seq " + seq);
        }
      }
    }
  }
}
