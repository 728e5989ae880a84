package dev.cmod.ir.print;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

/** The IR text parser reads what the printer writes, every attribute kind and dim form included. */
class TextParserTest {
  @Test
  void aPrintedGraphParsesBackToTheSameText() {
    Graph g = new Graph("m");
    Dim seq = Dim.sym("seq");
    Value x =
        g.addInput(
            "x \"q\"",
            new TensorType(DType.F32, List.of(Dim.sym("batch"), seq.plus(Dim.of(16)))),
            new SourceLoc("dir:a/m.cmod", 3, 7));
    Value w = g.addParam("l.w", Tensor.ofFloats(new long[] {2}, new float[] {1, 2}), false, null);
    Value c = g.addConst(Tensor.ofLongs(new long[] {8}, new long[] {1, 2, 3, 4, 5, 6, 7, 8}), null);
    Node sl =
        g.add(Op.SLICE, Attrs.of("axis", 1, "start", Dim.of(0), "end", seq), List.of(x), null);
    Node r =
        g.add(
            Op.RESHAPE,
            Attrs.of("dims", List.of(Dim.sym("batch"), seq.div(Dim.of(2)), Dim.of(2))),
            List.of(sl.out()),
            null);
    Node ln = g.add(Op.SOFTMAX, Attrs.of("axis", 2), List.of(r.out()), new SourceLoc("f", 1, 2));
    Node k = g.add(Op.TOPK, Attrs.of("axis", 2, "k", 1), List.of(ln.out()), null);
    Node cast = g.add(Op.CAST, Attrs.of("to", DType.F32), List.of(k.out(1)), null);
    Node gelu = g.add(Op.GELU, Attrs.of("approx", "tanh"), List.of(cast.out()), null);
    Value z = g.addInput("z", TensorType.of(DType.F32, 4), null);
    Value gamma = g.addConst(Tensor.ofFloats(new long[] {4}, new float[] {0.5f, 1, 2, 3}), null);
    Node rms = g.add(Op.RMS_NORM, Attrs.of("eps", 1e-6), List.of(z, gamma), null);
    g.setOutput("y", gelu.out());
    g.setOutput("w", w);
    g.setOutput("c", c);
    g.setOutput("r", rms.out());
    String text = TextPrinter.print(g);
    Graph back = TextParser.parse("m", text);
    assertEquals(text, TextPrinter.print(back));
    assertEquals("x \"q\"", back.inputs().get(0).attrs().getString("name"));
    assertEquals(new SourceLoc("dir:a/m.cmod", 3, 7), back.nodes().get(0).loc());
    assertEquals(g.symbols(), back.symbols());
  }

  @Test
  void valuesTheTextLeavesOutAreFilledDeterministically() {
    Graph g =
        TextParser.parse(
            "t",
            """
            // a comment line
            %0 = param "w" {trainable=false} [1.5, -2] : f32[2]
            %1 = param "v" : f32[2, 2]
            %2 = const [1, 2, ...] : i64[5]

            %3 = add(%0, %1) : f32[2, 2]
            output "y" = %3
            output "z" = %2
            """);
    List<Node> ns = g.nodes();
    assertArrayEquals(new float[] {1.5f, -2f}, ns.get(0).attrs().getTensor("value").floats());
    assertFalse(ns.get(0).attrs().getBool("trainable", true));
    assertArrayEquals(new float[4], ns.get(1).attrs().getTensor("value").floats());
    assertTrue(ns.get(1).attrs().getBool("trainable", false));
    assertArrayEquals(new long[] {1, 2, 1, 2, 1}, ns.get(2).attrs().getTensor("value").longs());
  }

  @Test
  void mistakesAreReportedWithTheirLine() {
    assertThrows(
        TextParser.ParseException.class,
        () -> TextParser.parse("t", "%0 = input \"x\" : f32[2]\n%1 = neg(%7) : f32[2]\n"),
        "line 2");
    TextParser.ParseException wrongType =
        assertThrows(
            TextParser.ParseException.class,
            () -> TextParser.parse("t", "%0 = input \"x\" : f32[2]\n%1 = neg(%0) : f32[3]\n"));
    assertTrue(
        wrongType.getMessage().startsWith("line 2: the written types"), wrongType.getMessage());
    assertThrows(
        TextParser.ParseException.class,
        () -> TextParser.parse("t", "%0 = frobnicate \"x\" : f32[2]\n"));
    assertThrows(
        TextParser.ParseException.class,
        () -> TextParser.parse("t", "%0 = const [1, 2] : f32[3]\n"));
  }
}
