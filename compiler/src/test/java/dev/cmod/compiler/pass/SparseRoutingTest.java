package dev.cmod.compiler.pass;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.compiler.sema.Elaborator;
import dev.cmod.compiler.sema.FileScope;
import dev.cmod.compiler.sema.Loader;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.graph.Verifier;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Sparse routing against the dense form, on the interpreter: the route node's own kernel (its dense
 * meaning) is the oracle, and the graph after {@link SparseRouting} and {@link LowerRouting} must
 * give the same numbers — at several token shapes, k = 1 and 2, and with tied gate scores.
 */
class SparseRoutingTest {
  private static String moe(String input, int experts, int k, String expert) {
    StringBuilder list = new StringBuilder();
    for (int e = 0; e < experts; e++) {
      list.append(e == 0 ? "" : ", ").append(expert);
    }
    return """
        module Ffn(d: int, h: int)(x: f32[..., d]) -> f32[..., d] {
          param w1: f32[d, h] = init.xavier
          param b1: f32[h] = init.normal(0.5)
          param w2: f32[h, d] = init.xavier
          param b2: f32[d] = init.normal(0.5)
          gelu(x @ w1 + b1) @ w2 + b2
        }
        module Mixer(d: int)(x: f32[..., d]) -> f32[..., d] {
          param w: f32[d, d] = init.xavier
          softmax(x @ w, axis = 0)
        }
        model Moe {
          input x: %s
          output y = route x to [%s] by topk(%d)
        }
        """
        .formatted(input, list, k);
  }

  private static Graph elaborate(String src) {
    Diagnostics diags = new Diagnostics();
    Elaborator consts = new Elaborator(diags, CompileOptions.defaults());
    FileScope root =
        new Loader(diags, Elaborator.builtinEnv(), consts::evalConst)
            .loadRoot(new SourceFile("moe.cmod", src), null);
    Graph g =
        new Elaborator(diags, CompileOptions.defaults()).elaborateModel(root.models().get(0), root);
    assertFalse(diags.hasErrors(), () -> diags.all().toString());
    return g;
  }

  private static Tensor random(long[] shape, long seed) {
    Random r = new Random(seed);
    float[] v = new float[(int) Tensor.numel(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Tensor.ofFloats(shape, v);
  }

  private static long count(Graph g, Op op) {
    return g.nodes().stream().filter(n -> n.op() == op).count();
  }

  private static void assertClose(Tensor want, Tensor got) {
    assertEquals(List.of(want.shape().length), List.of(got.shape().length));
    float[] a = want.floats();
    float[] b = got.floats();
    assertEquals(a.length, b.length);
    for (int i = 0; i < a.length; i++) {
      assertEquals(a[i], b[i], 1e-5 * Math.max(1, Math.abs(a[i])), "element " + i);
    }
  }

  /** Runs the passes; returns the notes. */
  private static List<String> sparse(Graph g) {
    List<String> notes = new ArrayList<>();
    PassContext cx =
        new PassContext() {
          @Override
          public void count(String what, int n) {}

          @Override
          public void note(String line) {
            notes.add(line);
          }
        };
    new SparseRouting().run(g, cx);
    new LowerRouting().run(g, PassContext.NONE);
    new DeadCodeElimination().run(g, PassContext.NONE);
    assertEquals(List.of(), Verifier.verify(g));
    return notes;
  }

  @Test
  void sparseDispatchEqualsTheDenseFormAtEveryShapeAndK() {
    for (int k = 1; k <= 2; k++) {
      // inputs get the batch axis: f32[seq, 16] is [batch, seq, 16]
      for (long[] shape : new long[][] {{1, 1, 16}, {1, 5, 16}, {1, 33, 16}, {2, 3, 16}}) {
        String input = "f32[seq, 16]";
        Graph dense = elaborate(moe(input, 8, k, "Ffn(16, 64)"));
        Tensor x = random(shape, 7 + k);
        Tensor want = Interpreter.run(dense, Map.of("x", x)).get("y");
        Graph g = elaborate(moe(input, 8, k, "Ffn(16, 64)"));
        List<String> notes = sparse(g);
        assertTrue(notes.get(0).contains("sparse dispatch, top-" + k + " of 8"), notes::toString);
        assertEquals(8, count(g, Op.NONZERO), "one dispatch per expert");
        assertEquals(1, count(g, Op.SCATTER_ADD), "one scatter of every expert's rows");
        assertEquals(0, count(g, Op.ROUTE));
        assertClose(want, Interpreter.run(g, Map.of("x", x)).get("y"));
      }
    }
  }

  /**
   * A router of zeros scores every expert the same: topk keeps the lowest indices (its tie rule),
   * in the dense form and in the sparse one, which reads the same gates.
   */
  @Test
  void tiedGateScoresPickTheLowestExpertsAsTheDenseForm() {
    for (int k = 1; k <= 2; k++) {
      Graph dense = elaborate(moe("f32[seq, 16]", 8, k, "Ffn(16, 64)"));
      Graph g = elaborate(moe("f32[seq, 16]", 8, k, "Ffn(16, 64)"));
      for (Graph h : List.of(dense, g)) {
        for (Node n : h.nodes()) {
          if (n.op() == Op.PARAM && n.attrs().getString("path").startsWith("Router_0")) {
            Tensor zero = Tensor.zeros(DType.F32, shape(n));
            h.replaceLeaf(n, n.attrs().with("value", zero), n.type());
          }
        }
      }
      Tensor x = random(new long[] {2, 6, 16}, 3);
      Tensor want = Interpreter.run(dense, Map.of("x", x)).get("y");
      sparse(g);
      assertClose(want, Interpreter.run(g, Map.of("x", x)).get("y"));
    }
  }

  private static long[] shape(Node n) {
    long[] s = new long[n.type().rank()];
    for (int i = 0; i < s.length; i++) {
      s[i] = n.type().dim(i).value();
    }
    return s;
  }

  @Test
  void fewOrCheapExpertsStayDense() {
    Graph two = elaborate(moe("f32[seq, 16]", 2, 1, "Ffn(16, 4)"));
    List<String> notes = sparse(two);
    assertTrue(
        notes.get(0).startsWith("route at moe.cmod:") && notes.get(0).contains(": dense, "),
        notes::toString);
    assertEquals(0, count(two, Op.NONZERO));
    // top-k over all the experts saves nothing
    Graph all = elaborate(moe("f32[seq, 16]", 4, 4, "Ffn(16, 64)"));
    assertTrue(sparse(all).get(0).contains(": dense, "));
    // three tokens per example, known at compile time: dispatch costs more than it saves
    Graph tiny = elaborate(moe("f32[3, 16]", 8, 2, "Ffn(16, 64)"));
    List<String> t = sparse(tiny);
    assertTrue(t.get(0).contains(": dense, top-2 of 8 experts at 3 tokens"), t::toString);
    // example-level routing ([batch, d]) is one token per example
    Graph rows = elaborate(moe("f32[16]", 8, 2, "Ffn(16, 64)"));
    List<String> r = sparse(rows);
    assertTrue(r.get(0).contains(": dense, top-2 of 8 experts at 1 tokens"), r::toString);
  }

  @Test
  void anExpertThatMixesTokensKeepsTheRouteDense() {
    Graph g = elaborate(moe("f32[seq, 16]", 8, 2, "Mixer(16)"));
    List<String> notes = sparse(g);
    assertTrue(
        notes.get(0).contains("is not row-wise: its softmax is not over the features"),
        notes::toString);
    assertEquals(0, count(g, Op.NONZERO));
  }

  /**
   * A soft route needs the experts on every token anyway: the top-k route over them stays dense.
   */
  @Test
  void expertsAlsoComputedDenselyElsewhereKeepTheRouteDense() {
    String src =
        moe("f32[seq, 16]", 8, 2, "Ffn(16, 64)")
            .replace("output y = route x to [", "let ex = [")
            .replace(
                "] by topk(2)",
                "]\n  output y = route x to ex by topk(2)\n  output z = route x to ex by soft");
    Graph g = elaborate(src);
    List<String> notes = sparse(g);
    assertTrue(
        notes.get(0).contains("dense (expert 0's output is also computed on every token"),
        notes::toString);
    assertEquals(0, count(g, Op.NONZERO));
  }

  /** Constant gates with an all-zero column: that expert is removed, the others stay dense. */
  @Test
  void expertsConstantGatesNeverChooseAreRemoved() {
    Graph g = new Graph("r");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2, 3), null);
    float[] gv = {0.5f, 0f, 0.5f, 1f, 0f, 0f};
    Value gates = g.addConst(Tensor.ofFloats(new long[] {2, 3}, gv), null);
    List<Value> operands = new ArrayList<>(List.of(gates));
    for (int e = 0; e < 3; e++) {
      Value w = g.addParam("w" + e, random(new long[] {3, 3}, e), true, null);
      operands.add(g.add(Op.MATMUL, Attrs.NONE, List.of(x, w), null).out());
    }
    long[] ids = new long[7];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = g.reserveId();
    }
    g.setOutput("y", g.add(Op.ROUTE, Attrs.of("mode", "index", "ids", ids), operands, null).out());
    Tensor in = random(new long[] {2, 3}, 9);
    Tensor want = Interpreter.run(g, Map.of("x", in)).get("y");
    List<String> notes = sparse(g);
    assertTrue(notes.get(0).contains("only experts [0, 2] of 3"), notes::toString);
    assertEquals(2, count(g, Op.MATMUL), "expert 1's matmul is gone");
    assertTrue(
        g.nodes().stream()
            .noneMatch(n -> n.op() == Op.PARAM && n.attrs().getString("path").equals("w1")));
    assertClose(want, Interpreter.run(g, Map.of("x", in)).get("y"));
  }
}
