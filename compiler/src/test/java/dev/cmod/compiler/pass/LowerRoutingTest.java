package dev.cmod.compiler.pass;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import org.junit.jupiter.api.Test;

/**
 * The route op: elaboration builds one structured node per {@code route} expression, and {@link
 * LowerRouting} expands it into the weighted sum of the experts, on exactly the node ids the route
 * reserved for it.
 */
class LowerRoutingTest {
  private static final String MOE =
      """
      module Lin(d: int)(x: f32[..., d]) -> f32[..., d] {
        param w: f32[d, d] = init.xavier
        x @ w
      }
      model Moe {
        input x: f32[batch, 4]
        let experts = [Lin(4), Lin(4), Lin(4)]
        output y = route x to experts by topk(2)
      }
      """;

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

  private static List<Node> routes(Graph g) {
    return g.nodes().stream().filter(n -> n.op() == Op.ROUTE).toList();
  }

  @Test
  void elaborationBuildsOneRouteWithGatesExpertsAndMode() {
    Graph g = elaborate(MOE);
    List<Node> routes = routes(g);
    assertEquals(1, routes.size());
    Node r = routes.get(0);
    List<Value> in = g.operands(r);
    assertEquals(4, in.size(), "the gates and three experts");
    assertEquals(Op.REDUCE_SUM, in.get(0).node().op(), "top-k gates end in a sum over k");
    for (int e = 1; e < 4; e++) {
      assertEquals(Op.MATMUL, in.get(e).node().op(), "expert " + (e - 1) + "'s output");
    }
    assertEquals("topk", r.attrs().getString("mode"));
    assertEquals(3 * 3 - 2, r.attrs().getLongs("ids").length);
    assertEquals(List.of(), Verifier.verify(g));
  }

  @Test
  void loweringUsesEveryReservedIdAndLeavesNoRoute() {
    Graph g = elaborate(MOE);
    int before = g.nodeCount();
    assertTrue(new LowerRouting().run(g, PassContext.NONE));
    assertEquals(List.of(), routes(g));
    // the route gives way to a slice and a multiply per expert and an add between them
    assertEquals(before - 1 + 3 + 3 + 2, g.nodeCount());
    assertEquals(List.of(), Verifier.verify(g));
    // no gaps: the dense form took every id the route had reserved, so ids are 0..n-1
    List<Integer> ids = new ArrayList<>(g.nodes().stream().map(Node::id).sorted().toList());
    for (int i = 0; i < ids.size(); i++) {
      assertEquals(i, ids.get(i));
    }
    assertFalse(new LowerRouting().run(g, PassContext.NONE), "nothing left to lower");
  }

  @Test
  void loweredRouteIsTheGateWeightedSumOfTheExperts() {
    Graph g = new Graph("r");
    Value gates = g.addInput("g", TensorType.of(DType.F32, 2, 3), null);
    List<Value> operands = new ArrayList<>(List.of(gates));
    for (int e = 0; e < 3; e++) {
      operands.add(g.addInput("y" + e, TensorType.of(DType.F32, 2, 2), null));
    }
    long[] ids = new long[7];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = g.reserveId();
    }
    Node r = g.add(Op.ROUTE, Attrs.of("mode", "soft", "ids", ids), operands, null);
    assertEquals(TensorType.of(DType.F32, 2, 2), r.type());
    g.setOutput("out", r.out());

    float[] gv = {0.5f, 0.25f, 0.25f, 0f, 1f, 0f};
    float[][] yv = {{1, 2, 3, 4}, {10, 20, 30, 40}, {100, 200, 300, 400}};
    Map<String, Tensor> inputs =
        Map.of(
            "g", Tensor.ofFloats(DType.F32, new long[] {2, 3}, gv),
            "y0", Tensor.ofFloats(DType.F32, new long[] {2, 2}, yv[0]),
            "y1", Tensor.ofFloats(DType.F32, new long[] {2, 2}, yv[1]),
            "y2", Tensor.ofFloats(DType.F32, new long[] {2, 2}, yv[2]));
    float[] want = new float[4];
    for (int b = 0; b < 2; b++) {
      for (int j = 0; j < 2; j++) {
        for (int e = 0; e < 3; e++) {
          want[b * 2 + j] += yv[e][b * 2 + j] * gv[b * 3 + e];
        }
      }
    }
    // the interpreter's route kernel (for passes that run before the lowering) and the dense form
    assertArrayEquals(want, Interpreter.run(g, inputs).get("out").floats(), 1e-5f);
    new LowerRouting().run(g, PassContext.NONE);
    assertEquals(List.of(), routes(g));
    assertArrayEquals(want, Interpreter.run(g, inputs).get("out").floats(), 1e-5f);
  }
}
