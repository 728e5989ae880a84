package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.T.close;
import static dev.cmod.ir.interp.T.f;
import static dev.cmod.ir.interp.T.i64;
import static dev.cmod.ir.interp.T.ramp;
import static dev.cmod.ir.interp.T.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InterpreterGraphTest {
  private static final Dim BATCH = Dim.sym("batch");
  private static final Dim SEQ = Dim.sym("seq");

  /**
   * x: f32[batch, seq, 4] -> reshape [batch*seq, 4] -> @ w[4, 2] -> + b -> y; also y2 = x[:, 1:seq]
   * summed.
   */
  private static Graph symbolicGraph(Tensor w) {
    Graph g = new Graph("sym");
    Value x = g.addInput("x", new TensorType(DType.F32, List.of(BATCH, SEQ, Dim.of(4))), null);
    Value pw = g.addParam("proj.weight", w, true, null);
    Value pb = g.addConst(f(s(2), 0.5f, -0.5f), null);
    Node flat =
        g.add(Op.RESHAPE, Attrs.of("dims", List.of(BATCH.times(SEQ), Dim.of(4))), List.of(x), null);
    Node mm = g.add(Op.MATMUL, Attrs.NONE, List.of(flat.out(), pw), null);
    Node y = g.add(Op.ADD, Attrs.NONE, List.of(mm.out(), pb), null);
    Node tail =
        g.add(Op.SLICE, Attrs.of("axis", 1, "start", Dim.of(1), "end", SEQ), List.of(x), null);
    Node sum = g.add(Op.REDUCE_SUM, Attrs.of("axis", 1), List.of(tail.out()), null);
    g.setOutput("y", y.out());
    g.setOutput("tail", sum.out());
    return g;
  }

  @Test
  void symbolicDimsAtTwoSizes() {
    Tensor w = f(s(4, 2), 1, 0, 0, 1, 1, 0, 0, 1);
    Graph g = symbolicGraph(w);
    for (int[] size : new int[][] {{2, 3}, {1, 5}}) {
      int b = size[0];
      int sq = size[1];
      Tensor x = ramp(b, sq, 4);
      Map<String, Tensor> out = Interpreter.run(g, Map.of("x", x));
      assertEquals(List.of("y", "tail"), List.copyOf(out.keySet()));
      float[] xv = x.floats();
      float[] want = new float[b * sq * 2];
      for (int r = 0; r < b * sq; r++) {
        want[r * 2] = xv[r * 4] + xv[r * 4 + 2] + 0.5f;
        want[r * 2 + 1] = xv[r * 4 + 1] + xv[r * 4 + 3] - 0.5f;
      }
      close(s(b * sq, 2), want, out.get("y"), 0);
      float[] tail = new float[b * 4];
      for (int i = 0; i < b; i++) {
        for (int t = 1; t < sq; t++) {
          for (int c = 0; c < 4; c++) {
            tail[i * 4 + c] += xv[(i * sq + t) * 4 + c];
          }
        }
      }
      close(s(b, 4), tail, out.get("tail"), 0);
    }
  }

  @Test
  void symbolsBoundAcrossInputs() {
    Graph g = new Graph("two");
    Value x = g.addInput("x", new TensorType(DType.F32, List.of(BATCH, SEQ)), null);
    Value y = g.addInput("y", new TensorType(DType.F32, List.of(BATCH, SEQ)), null);
    g.setOutput("z", g.add(Op.ADD, Attrs.NONE, List.of(x, y), null).out());
    Map<String, Tensor> ok = Interpreter.run(g, Map.of("x", ramp(2, 3), "y", ramp(2, 3)));
    close(s(2, 3), new float[] {0, 2, 4, 6, 8, 10}, ok.get("z"), 0);
    InterpreterException e =
        assertThrows(
            InterpreterException.class,
            () -> Interpreter.run(g, Map.of("x", ramp(2, 7), "y", ramp(2, 5))));
    assertEquals(
        "input 'y': axis 1 has size 5 but 'seq' is 7 (from input 'x' axis 1)", e.getMessage());
  }

  @Test
  void compositeDimsAreSolvedAndChecked() {
    Graph g = new Graph("pad");
    Value x = g.addInput("x", new TensorType(DType.F32, List.of(SEQ.plus(Dim.of(16)))), null);
    Value y = g.addInput("y", new TensorType(DType.F32, List.of(SEQ.times(Dim.of(2)))), null);
    Node head =
        g.add(Op.SLICE, Attrs.of("axis", 0, "start", Dim.of(0), "end", SEQ), List.of(x), null);
    g.setOutput("head", head.out());
    g.setOutput("y", y);
    Map<String, Long> syms = Interpreter.bindSymbols(g, Map.of("x", ramp(19), "y", ramp(6)));
    assertEquals(Map.of("seq", 3L), syms);
    Map<String, Tensor> out = Interpreter.run(g, Map.of("x", ramp(19), "y", ramp(6)));
    close(s(3), new float[] {0, 1, 2}, out.get("head"), 0);
    InterpreterException e =
        assertThrows(
            InterpreterException.class,
            () -> Interpreter.run(g, Map.of("x", ramp(19), "y", ramp(8))));
    assertTrue(
        e.getMessage().startsWith("input 'y': axis 0 has size 8 but is declared as 2*seq = 6"),
        e.getMessage());
  }

  @Test
  void reshapeOfWrongRuntimeSizeIsReported() {
    Graph g = new Graph("bad");
    Value x = g.addInput("x", new TensorType(DType.F32, List.of(SEQ)), null);
    Node r = g.add(Op.RESHAPE, Attrs.of("dims", List.of(Dim.of(2), Dim.of(3))), List.of(x), null);
    g.setOutput("r", r.out());
    close(
        s(2, 3),
        new float[] {0, 1, 2, 3, 4, 5},
        Interpreter.run(g, Map.of("x", ramp(6))).get("r"),
        0);
    InterpreterException e =
        assertThrows(InterpreterException.class, () -> Interpreter.run(g, Map.of("x", ramp(5))));
    assertTrue(e.getMessage().contains("reshape: cannot view [5]"), e.getMessage());
  }

  @Test
  void inputValidation() {
    Graph g = new Graph("v");
    Value x = g.addInput("x", new TensorType(DType.F32, List.of(BATCH, Dim.of(4))), null);
    Value ids = g.addInput("ids", new TensorType(DType.I64, List.of(BATCH)), null);
    g.setOutput("x", x);
    g.setOutput("ids", ids);
    InterpreterException missing =
        assertThrows(InterpreterException.class, () -> Interpreter.run(g, Map.of("x", ramp(2, 4))));
    assertEquals("missing input 'ids' of type i64[batch]", missing.getMessage());
    InterpreterException extra =
        assertThrows(
            InterpreterException.class,
            () ->
                Interpreter.run(g, Map.of("x", ramp(2, 4), "ids", i64(s(2), 0, 1), "z", ramp(1))));
    assertEquals("unknown input 'z' (the model's inputs are 'x', 'ids')", extra.getMessage());
    InterpreterException dtype =
        assertThrows(
            InterpreterException.class,
            () -> Interpreter.run(g, Map.of("x", ramp(2, 4), "ids", f(s(2), 0, 1))));
    assertEquals("input 'ids': expected i64[batch] but got a tensor of f32[2]", dtype.getMessage());
    InterpreterException rank =
        assertThrows(
            InterpreterException.class,
            () -> Interpreter.run(g, Map.of("x", ramp(8), "ids", i64(s(2), 0, 1))));
    assertEquals("input 'x': expected rank 2 (f32[batch, 4]) but got shape [8]", rank.getMessage());
    InterpreterException known =
        assertThrows(
            InterpreterException.class,
            () -> Interpreter.run(g, Map.of("x", ramp(2, 5), "ids", i64(s(2), 0, 1))));
    assertEquals(
        "input 'x': axis 1 has size 5 but must be 4 (declared f32[batch, 4])", known.getMessage());
    InterpreterException sym =
        assertThrows(
            InterpreterException.class,
            () -> Interpreter.run(g, Map.of("x", ramp(2, 4), "ids", i64(s(3), 0, 1, 2))));
    assertEquals(
        "input 'ids': axis 0 has size 3 but 'batch' is 2 (from input 'x' axis 0)",
        sym.getMessage());
  }

  @Test
  void outputsAreCopiesOfLeaves() {
    Graph g = new Graph("id");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2), null);
    Tensor pv = f(s(2), 5, 6);
    Value p = g.addParam("p", pv, false, null);
    g.setOutput("x", x);
    g.setOutput("p", p);
    Tensor in = f(s(2), 1, 2);
    Map<String, Tensor> out = Interpreter.run(g, Map.of("x", in));
    out.get("p").floats()[0] = 99;
    out.get("x").floats()[0] = 99;
    assertEquals(5, pv.floats()[0]);
    assertEquals(1, in.floats()[0]);
  }

  @Test
  void multiOutputNodesFeedLaterNodes() {
    Graph g = new Graph("split");
    Value x = g.addInput("x", TensorType.of(DType.F32, 2, 4), null);
    Node sp =
        g.add(
            Op.SPLIT,
            Attrs.of("axis", 1, "sizes", List.of(Dim.of(2), Dim.of(2))),
            List.of(x),
            null);
    Node sum = g.add(Op.SUB, Attrs.NONE, List.of(sp.out(1), sp.out(0)), null);
    Node tk = g.add(Op.TOPK, Attrs.of("k", 1, "axis", 1), List.of(sum.out()), null);
    g.setOutput("d", sum.out());
    g.setOutput("idx", tk.out(1));
    Map<String, Tensor> out = Interpreter.run(g, Map.of("x", f(s(2, 4), 1, 2, 4, 3, 0, 0, 1, 5)));
    close(s(2, 2), new float[] {3, 1, 1, 5}, out.get("d"), 0);
    T.exact(s(2, 1), new long[] {0, 1}, out.get("idx"));
  }

  @Test
  void symbolSourcesBindSymbolsOfUnknownAxes() {
    Graph g = new Graph("src");
    Value x = g.addInput("x", new TensorType(DType.F32, List.of(Dim.UNKNOWN, Dim.of(2))), null);
    g.putSymbol("n", new Graph.SymbolSource("x", 0));
    Node r =
        g.add(
            Op.RESHAPE, Attrs.of("dims", List.of(Dim.sym("n").times(Dim.of(2)))), List.of(x), null);
    g.setOutput("r", r.out());
    close(
        s(6),
        new float[] {0, 1, 2, 3, 4, 5},
        Interpreter.run(g, Map.of("x", ramp(3, 2))).get("r"),
        0);
  }

  @Test
  void attentionRejectsIntegerMasks() {
    InterpreterException e =
        assertThrows(
            InterpreterException.class,
            () ->
                T.run(
                    Op.ATTENTION,
                    Attrs.NONE,
                    ramp(2, 2),
                    ramp(2, 2),
                    ramp(2, 2),
                    i64(s(2, 2), 1, 1, 1, 1)));
    assertTrue(e.getMessage().contains("mask must be bool"), e.getMessage());
  }
}
