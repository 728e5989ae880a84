package dev.cmod.compiler;

import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.LeafOps;
import dev.cmod.ir.op.OpDefs;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * Static cost estimates: parameter counts and floating-point operations per sample (batch = 1,
 * other symbolic dims at their upper bound from where clauses, or 1 without one). Each op's own
 * estimate is in its definition ({@link dev.cmod.ir.op.OpDef#flops}); this sums them over a graph
 * at the model's dim bounds.
 */
public final class Cost {
  private Cost() {}

  public record Params(long total, long trainable) {
    public long frozen() {
      return total - trainable;
    }
  }

  public static Params params(Graph g) {
    long total = 0;
    long trainable = 0;
    for (Node n : g.nodes()) {
      long c = OpDefs.of(n.op()).params(n.attrs());
      total += c;
      if (c > 0 && LeafOps.TRAINABLE.get(n.attrs())) {
        trainable += c;
      }
    }
    return new Params(total, trainable);
  }

  /** Estimated FLOPs of one sample: the sum of each node's estimate from its op's definition. */
  public static double flops(Graph g, ModelFacts facts) {
    double total = 0;
    for (Node n : g.nodes()) {
      List<TensorType> in = new ArrayList<>();
      for (Value v : g.operands(n)) {
        in.add(v.type());
      }
      total += OpDefs.of(n.op()).flops(in, n.type(), d -> value(d, facts));
    }
    return total;
  }

  /**
   * The longest sequence any attention attends over (keys per query), at the where bounds: what a
   * {@code tokens} budget limits (dense attention costs grow with its square). -1 when unbounded.
   */
  public static long attentionTokens(Graph g, ModelFacts facts) {
    long max = 0;
    for (Node n : g.nodes()) {
      if (n.op() != Op.ATTENTION) {
        continue;
      }
      long v = keyTokens(g, n, facts);
      if (v < 0) {
        return -1;
      }
      max = Math.max(max, v);
    }
    return max;
  }

  /**
   * The number of keys an attention node's queries see, at the {@code where} upper bounds; -1 when
   * a symbol of it has no upper bound.
   */
  public static long keyTokens(Graph g, Node attention, ModelFacts facts) {
    TensorType k = g.operands(attention).get(1).type();
    Dim d = k.dim(k.rank() - 2);
    try {
      return d.isKnown()
          ? d.value()
          : d.eval(
              s -> {
                long[] r = facts.bounds().get(s);
                if (r == null || r[1] == Long.MAX_VALUE) {
                  throw new IllegalStateException(s);
                }
                return r[1];
              });
    } catch (IllegalStateException | ArithmeticException e) {
      return -1;
    }
  }

  private static double value(Dim d, ModelFacts facts) {
    if (d.isKnown()) {
      return d.value();
    }
    if (d.isUnknown()) {
      return 1;
    }
    try {
      return d.eval(
          s -> {
            long[] r = facts == null || s.equals("batch") ? null : facts.bounds().get(s);
            return r == null ? 1 : r[1] != Long.MAX_VALUE ? r[1] : r[0];
          });
    } catch (RuntimeException e) {
      return 1;
    }
  }
}
