package dev.cmod.ir.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;
import org.junit.jupiter.api.Test;

class VerifierTest {
  private static Graph good() {
    Graph g = new Graph("g");
    Value x =
        g.addInput("x", new TensorType(DType.F32, List.of(Dim.sym("batch"), Dim.of(4))), null);
    Value w = g.addParam("w", Tensor.zeros(DType.F32, new long[] {4, 2}), true, null);
    Node mm = g.add(Op.MATMUL, Attrs.NONE, List.of(x, w), null);
    Node sp =
        g.add(
            Op.SPLIT,
            Attrs.of("axis", 1, "sizes", List.of(Dim.of(1), Dim.of(1))),
            List.of(mm.out()),
            null);
    Node cat =
        g.add(Op.CONCAT, Attrs.of("axis", 1), List.of(sp.out(1), sp.out(0), sp.out(1)), null);
    g.setOutput("y", cat.out());
    return g;
  }

  private static boolean mentions(List<String> problems, String text) {
    return problems.stream().anyMatch(p -> p.contains(text));
  }

  @Test
  void acceptsAGoodGraph() {
    assertEquals(List.of(), Verifier.verify(good()));
  }

  @Test
  void reportsTypeMismatchAfterABadRewrite() {
    Graph g = good();
    Node x = g.inputs().get(0);
    Value other = g.addInput("z", TensorType.of(DType.F32, 3, 5), null);
    g.replaceAllUses(x.out(), other);
    List<String> problems = Verifier.verify(g);
    assertTrue(mentions(problems, "matmul"), problems.toString());
  }

  @Test
  void reportsForeignOutputsDuplicatePathsAndBadParams() {
    Graph g = good();
    Graph other = new Graph("other");
    g.setOutput("stray", other.addInput("q", TensorType.of(DType.F32, 1), null));
    g.addParam("w", Tensor.zeros(DType.F32, new long[] {1}), true, null);
    Node p = g.nodes().stream().filter(n -> n.op() == Op.PARAM).findFirst().orElseThrow();
    g.replaceLeaf(p, p.attrs(), TensorType.of(DType.F32, 4, 3));
    List<String> problems = Verifier.verify(g);
    assertTrue(mentions(problems, "output 'stray'"), problems.toString());
    assertTrue(mentions(problems, "param path 'w' is also used"), problems.toString());
    assertTrue(
        mentions(problems, "value is f32[4, 2] but the node's type is f32[4, 3]"),
        problems.toString());
  }
}
