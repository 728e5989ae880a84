package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Removes nodes no output depends on. Model inputs stay even when unused: they are the model's
 * interface. Besides its place in the pipelines, the {@link PassManager} runs it after every pass
 * that changed something.
 */
public final class DeadCodeElimination implements Pass {
  @Override
  public String name() {
    return "dce";
  }

  @Override
  public boolean run(Graph g, PassContext cx) {
    Set<Node> live = Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<Node> work = new ArrayDeque<>();
    for (Value v : g.outputs().values()) {
      work.add(v.node());
    }
    work.addAll(g.inputs());
    while (!work.isEmpty()) {
      Node n = work.poll();
      if (live.add(n)) {
        for (Value v : g.operands(n)) {
          work.add(v.node());
        }
      }
    }
    List<Node> order = g.nodes();
    int removed = 0;
    for (int i = order.size() - 1; i >= 0; i--) {
      Node n = order.get(i);
      if (!live.contains(n) && n.op() != Op.INPUT) {
        g.remove(n);
        removed++;
      }
    }
    if (removed > 0) {
      cx.count("dce.removed", removed);
      cx.note("removed " + removed + " node" + (removed == 1 ? "" : "s") + " no output uses");
    }
    return removed > 0;
  }
}
