package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.RoutingOps;
import dev.cmod.ir.type.Dim;
import java.util.List;

/**
 * Lowers each structured {@code route} node to its dense form, {@code Σ_e y_e · gates[..., e:e+1]}
 * (a slice, a multiply and an add per expert). Elaboration builds routing as one node so that a
 * pass can see the gate, the experts and the mode ({@link SparseRouting} makes some sparse at -O2,
 * just before); this pass runs first in every pipeline, -O0 included, because the interpreter and
 * the ONNX lowering know only the dense ops. The dense nodes take the ids the route reserved where
 * each would have been built, so the lowered graph is the one a dense elaboration would have made.
 */
public final class LowerRouting implements Pass {
  @Override
  public String name() {
    return "lower-routing";
  }

  /** The backend and the other passes know only the dense form. */
  @Override
  public boolean required() {
    return true;
  }

  /** It removes each route node it lowers and nothing else becomes dead. */
  @Override
  public boolean leavesDeadNodes() {
    return false;
  }

  @Override
  public boolean run(Graph g, PassContext cx) {
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (n.op() == Op.ROUTE) {
        lower(g, n);
        cx.count("route", 1);
        changed = true;
      }
    }
    return changed;
  }

  private static void lower(Graph g, Node route) {
    List<Value> in = g.operands(route);
    Value gates = in.get(0);
    long[] ids = RoutingOps.IDS.get(route.attrs());
    int gl = gates.type().rank() - 1;
    int experts = in.size() - 1;
    int next = 0;
    Value acc = null;
    for (int e = 0; e < experts; e++) {
      boolean last = e == experts - 1;
      Value slice =
          g.addWithId(
                  (int) ids[next++],
                  Op.SLICE,
                  Attrs.of("axis", gl, "start", Dim.of(e), "end", Dim.of(e + 1)),
                  List.of(gates),
                  route.loc())
              .out();
      int mulId = last && e == 0 ? route.id() : (int) ids[next++];
      Value term =
          g.addWithId(mulId, Op.MUL, Attrs.NONE, List.of(in.get(e + 1), slice), route.loc()).out();
      acc =
          acc == null
              ? term
              : g.addWithId(
                      last ? route.id() : (int) ids[next++],
                      Op.ADD,
                      Attrs.NONE,
                      List.of(acc, term),
                      route.loc())
                  .out();
    }
    g.replaceAllUses(route.out(), acc);
    g.remove(route);
  }
}
