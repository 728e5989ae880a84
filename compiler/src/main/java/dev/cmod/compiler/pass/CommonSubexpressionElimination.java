package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import java.util.HashMap;
import java.util.Map;

/**
 * Merges nodes that compute the same thing: same op, same attributes (constants by content digest)
 * and the same operands in the same order. Inputs and parameters are never merged.
 */
public final class CommonSubexpressionElimination implements Pass {
  @Override
  public String name() {
    return "cse";
  }

  @Override
  public boolean run(Graph g, PassContext cx) {
    Map<String, Node> seen = new HashMap<>();
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (n.op() == Op.INPUT || n.op() == Op.PARAM) {
        continue;
      }
      String key = digest(g, n);
      Node prev = seen.putIfAbsent(key, n);
      if (prev != null) {
        for (int i = 0; i < n.outputTypes().size(); i++) {
          g.replaceAllUses(n.out(i), prev.out(i));
        }
        changed = true;
        cx.count("merge", 1);
        cx.note("merged " + n + " into " + prev);
      }
    }
    return changed;
  }

  static String digest(Graph g, Node n) {
    StringBuilder sb =
        new StringBuilder(n.op().name()).append('{').append(n.attrs().render(true)).append('}');
    for (Value v : g.operands(n)) {
      sb.append('%').append(v.node().id()).append('#').append(v.index());
    }
    return sb.toString();
  }
}
