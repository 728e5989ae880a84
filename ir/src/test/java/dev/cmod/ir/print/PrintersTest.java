package dev.cmod.ir.print;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrintersTest {
  static Graph build() {
    Graph g = new Graph("model");
    Value x =
        g.addInput("x", new TensorType(DType.F32, List.of(Dim.sym("batch"), Dim.of(4))), null);
    Value w = g.addParam("l1.weight", Tensor.zeros(DType.F32, new long[] {4, 8}), true, null);
    Value c =
        g.addConst(Tensor.ofFloats(new long[] {8}, new float[] {1, 2, 3, 4, 5, 6, 7, 0.5f}), null);
    Node mm = g.add(Op.MATMUL, Attrs.NONE, List.of(x, w), new SourceLoc("model.cmod", 4, 3));
    Node add = g.add(Op.ADD, Attrs.NONE, List.of(mm.out(), c), null);
    Node sm = g.add(Op.SOFTMAX, Attrs.of("axis", 1), List.of(add.out()), null);
    Node tk = g.add(Op.TOPK, Attrs.of("k", 2, "axis", 1), List.of(sm.out()), null);
    g.setOutput("y", sm.out());
    g.setOutput("idx", tk.out(1));
    return g;
  }

  @Test
  void textForm() {
    String want =
        String.join(
            "\n",
            "%0 = input \"x\" : f32[batch, 4]",
            "%1 = param \"l1.weight\" : f32[4, 8]",
            "%2 = const [1, 2, 3, 4, 5, 6, ...] : f32[8]",
            "%3 = matmul(%0, %1) : f32[batch, 8]  // model.cmod:4:3",
            "%4 = add(%3, %2) : f32[batch, 8]",
            "%5 = softmax(%4) {axis=1} : f32[batch, 8]",
            "%6 = topk(%5) {axis=1, k=2} : (f32[batch, 2], i64[batch, 2])",
            "output \"y\" = %5",
            "output \"idx\" = %6#1",
            "");
    Graph g = build();
    assertEquals(want, TextPrinter.print(g));
    assertEquals(TextPrinter.print(g), TextPrinter.print(g));
    assertEquals(TextPrinter.print(g), TextPrinter.print(build()));
  }

  @Test
  void dotForm() {
    Graph g = build();
    String dot = DotPrinter.print(g);
    assertEquals(dot, DotPrinter.print(g));
    assertEquals(dot, DotPrinter.print(build()));
    assertTrue(dot.startsWith("digraph \"model\" {\n"), dot);
    assertTrue(dot.contains("  n3 [label=\"%3 matmul\\nf32[batch, 8]\"];\n"), dot);
    assertTrue(dot.contains("  n0 -> n3 [label=\"0\"];\n"), dot);
    assertTrue(dot.contains("  n1 -> n3 [label=\"1\"];\n"), dot);
    assertTrue(dot.contains("  n4 -> n5;\n"), dot); // one operand: no label
    assertTrue(dot.contains("  n6 -> out1 [label=\"#1\"];\n"), dot);
    assertTrue(dot.endsWith("}\n"), dot);
  }

  @Test
  void quotesAreEscaped() {
    Graph g = new Graph("q\"uote");
    g.setOutput("o", g.addInput("a\"b\\c", TensorType.of(DType.F32, 1), null));
    assertEquals("%0 = input \"a\\\"b\\\\c\" : f32[1]\noutput \"o\" = %0\n", TextPrinter.print(g));
    assertTrue(DotPrinter.print(g).startsWith("digraph \"q\\\"uote\" {"));
  }
}
