package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Evaluates nodes whose operands are all constants, with the reference interpreter, and replaces
 * them by constants. Parameters are not constants (a weights file may change them); results larger
 * than {@link #MAX_ELEMENTS} are left alone so folding never blows up the artifact.
 */
public final class ConstantFolding implements Pass {
  public static final long MAX_ELEMENTS = 1 << 20;

  @Override
  public String name() {
    return "constant-folding";
  }

  @Override
  public boolean run(Graph g) {
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (n.op().isLeaf() || !g.contains(n)) {
        continue;
      }
      List<Value> ops = g.operands(n);
      if (ops.isEmpty() || !ops.stream().allMatch(v -> v.node().op() == Op.CONST) || !small(n)) {
        continue;
      }
      Graph mini = new Graph("fold");
      List<Value> args = new ArrayList<>();
      for (Value v : ops) {
        args.add(mini.addConst(v.node().attrs().getTensor("value"), null));
      }
      Node copy = mini.add(n.op(), n.attrs(), args, null);
      for (int i = 0; i < copy.outputTypes().size(); i++) {
        mini.setOutput("o" + i, copy.out(i));
      }
      Map<String, Tensor> out = Interpreter.run(mini, Map.of());
      for (int i = 0; i < n.outputTypes().size(); i++) {
        Value c = g.addConst(out.get("o" + i), n.loc());
        g.replaceAllUses(n.out(i), c);
      }
      changed = true;
    }
    if (changed) {
      new DeadCodeElimination().run(g);
    }
    return changed;
  }

  static boolean small(Node n) {
    for (TensorType t : n.outputTypes()) {
      long e = 1;
      for (Dim d : t.dims()) {
        if (!d.isKnown()) {
          return false;
        }
        e *= Math.max(1, d.value());
        if (e > MAX_ELEMENTS) {
          return false;
        }
      }
    }
    return true;
  }
}
