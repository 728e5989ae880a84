package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;

/**
 * Local rewrites that remove work without changing results: x*1, x/1, x+0, x-0 (when the constant
 * does not broadcast x to a larger shape), reshape to the same shape, reshape of a reshape,
 * transpose of a transpose that composes to the identity.
 */
public final class AlgebraicSimplification implements Pass {
  @Override
  public String name() {
    return "simplify";
  }

  @Override
  public boolean run(Graph g) {
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (!g.contains(n)) {
        continue;
      }
      Value repl = rewrite(g, n);
      if (repl != null && !repl.equals(n.out())) {
        g.replaceAllUses(n.out(), repl);
        changed = true;
      }
    }
    if (changed) {
      new DeadCodeElimination().run(g);
    }
    return changed;
  }

  private static Value rewrite(Graph g, Node n) {
    switch (n.op()) {
      case MUL, DIV, ADD, SUB -> {
        Value a = g.operands(n).get(0);
        Value b = g.operands(n).get(1);
        double unit = n.op() == Op.MUL || n.op() == Op.DIV ? 1.0 : 0.0;
        if (isScalarConst(b, unit) && a.type().equals(n.type())) {
          return a;
        }
        if ((n.op() == Op.MUL || n.op() == Op.ADD)
            && isScalarConst(a, unit)
            && b.type().equals(n.type())) {
          return b;
        }
        return null;
      }
      case RESHAPE -> {
        Value x = g.operands(n).get(0);
        if (x.type().equals(n.type())) {
          return x;
        }
        if (x.node().op() == Op.RESHAPE) {
          return g.add(
                  Op.RESHAPE, n.attrs(), java.util.List.of(g.operands(x.node()).get(0)), n.loc())
              .out();
        }
        return null;
      }
      case TRANSPOSE -> {
        Value x = g.operands(n).get(0);
        if (x.node().op() == Op.TRANSPOSE) {
          long[] p = n.attrs().getLongs("perm");
          long[] q = x.node().attrs().getLongs("perm");
          boolean identity = true;
          for (int i = 0; i < p.length; i++) {
            identity &= q[(int) p[i]] == i;
          }
          if (identity) {
            return g.operands(x.node()).get(0);
          }
        }
        return null;
      }
      default -> {
        return null;
      }
    }
  }

  private static boolean isScalarConst(Value v, double unit) {
    if (v.node().op() != Op.CONST) {
      return false;
    }
    Tensor t = v.node().attrs().getTensor("value");
    if (t.size() != 1) {
      return false;
    }
    return t.get(0) == unit;
  }
}
