package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.interp.Interpreter;
import dev.cmod.ir.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds computations over parameters only (LoRA merging W + s·(A@B), IA³ scaling W·l, sums of
 * parameters...) into one parameter, for inference artifacts (-O2). The folded value keeps the path
 * of its first parameter operand when that parameter has no other use (so a merged LoRA weight is
 * still {@code base.q.weight}); otherwise it is named {@code <path>.merged}. The factors disappear
 * from the artifact. Results larger than {@link ConstantFolding#MAX_ELEMENTS} are left alone.
 */
public final class ParameterFolding implements Pass {
  @Override
  public String name() {
    return "parameter-folding";
  }

  @Override
  public boolean run(Graph g) {
    boolean changed = false;
    Set<String> paths = new HashSet<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.PARAM) {
        paths.add(n.attrs().getString("path"));
      }
    }
    for (Node n : g.nodes()) {
      if (n.op().isLeaf() || !g.contains(n) || n.outputTypes().size() != 1) {
        continue;
      }
      List<Value> ops = g.operands(n);
      boolean anyParam = false;
      boolean all = !ops.isEmpty();
      for (Value v : ops) {
        Op o = v.node().op();
        anyParam |= o == Op.PARAM;
        all &= o == Op.PARAM || o == Op.CONST;
      }
      if (!all || !anyParam || !ConstantFolding.small(n)) {
        continue;
      }
      Graph mini = new Graph("fold");
      List<Value> args = new ArrayList<>();
      boolean trainable = false;
      Node first = null;
      for (Value v : ops) {
        args.add(mini.addConst(v.node().attrs().getTensor("value"), null));
        if (v.node().op() == Op.PARAM) {
          trainable |= v.node().attrs().getBool("trainable", true);
          if (first == null) {
            first = v.node();
          }
        }
      }
      Node copy = mini.add(n.op(), n.attrs(), args, null);
      mini.setOutput("o", copy.out());
      Tensor value = Interpreter.run(mini, Map.of()).get("o");
      String base = first.attrs().getString("path");
      boolean reuse = g.users(first).size() == 1 && !g.outputs().containsValue(first.out());
      String path = base;
      if (!reuse) {
        path = base + ".merged";
        for (int k = 1; paths.contains(path); k++) {
          path = base + ".merged" + k;
        }
      }
      Attrs attrs = Attrs.of("path", path, "value", value, "trainable", trainable);
      if (reuse) {
        // replace the parameter itself so the folded weight keeps its path
        Node p = g.replaceLeaf(first, attrs, n.type());
        g.replaceAllUses(n.out(), p.out());
      } else {
        paths.add(path);
        Value p = g.addParam(path, value, trainable, n.loc());
        g.replaceAllUses(n.out(), p);
      }
      changed = true;
    }
    if (changed) {
      new DeadCodeElimination().run(g);
    }
    return changed;
  }
}
