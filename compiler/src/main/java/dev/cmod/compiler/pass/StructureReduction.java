package dev.cmod.compiler.pass;

import dev.cmod.compiler.Cost;
import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.AttentionOps;
import java.util.ArrayList;
import java.util.List;

/**
 * Meets a model's {@code tokens} budget by reducing structure: an attention whose queries see more
 * keys than the budget allows (at the {@code where} bounds) gets its keys and values average-pooled
 * along the sequence in windows of {@code p = ceil(tokens / budget)} consecutive positions (the
 * last window may be partial; it averages the positions it has), so it attends over at most the
 * budget's number of summaries. Queries keep their length, so the attention's result has the shape
 * it had and nothing after it changes; its cost becomes (queries × budget), linear in the input's
 * length instead of quadratic. This changes what the model computes, so it runs at every -O level,
 * before the budget is checked; a {@code budget strict} model is never reduced (the budget check
 * reports the attention instead). Causal and masked attention are left alone (a pooled key would
 * mix positions a query may and may not see).
 */
public final class StructureReduction {
  /**
   * One reduced attention.
   *
   * @param attention the node replaced (for its source location)
   * @param tokens keys per query before, at the where bounds
   * @param window the pooling window p
   * @param reduced keys per query after, at the where bounds
   */
  public record Reduction(Node attention, long tokens, long window, long reduced) {}

  private StructureReduction() {}

  /**
   * Reduces every attention over more than {@code budget} keys that can be reduced (rank 3 or 4, no
   * mask, not causal, a bounded sequence) and returns what it did, in graph order.
   */
  public static List<Reduction> apply(Graph g, ModelFacts facts, long budget) {
    List<Reduction> done = new ArrayList<>();
    if (budget < 1) {
      return done;
    }
    for (Node n : List.copyOf(g.nodes())) {
      if (n.op() != Op.ATTENTION || !g.contains(n)) {
        continue;
      }
      List<Value> in = g.operands(n);
      int rank = in.get(1).type().rank();
      long tokens = Cost.keyTokens(g, n, facts);
      if (tokens <= budget
          || in.size() > 3
          || AttentionOps.CAUSAL.get(n.attrs())
          || (rank != 3 && rank != 4)) {
        continue;
      }
      long p = (tokens + budget - 1) / budget;
      Value k = pool(g, in.get(1), p, n);
      Value v = pool(g, in.get(2), p, n);
      Node reduced = g.add(Op.ATTENTION, n.attrs(), List.of(in.get(0), k, v), n.loc());
      g.replaceAllUses(n.out(), reduced.out());
      g.remove(n);
      done.add(new Reduction(n, tokens, p, Cost.keyTokens(g, reduced, facts)));
    }
    return done;
  }

  /**
   * {@code x} [..., L, e] average-pooled over L in windows of {@code p}: ceil(L / p) positions, the
   * last window padded at its end with the padding left out of the average.
   */
  private static Value pool(Graph g, Value x, long p, Node at) {
    boolean three = x.type().rank() == 3;
    Value four = three ? g.add(Op.UNSQUEEZE, Attrs.of("axis", 1L), List.of(x), at.loc()).out() : x;
    Attrs window =
        Attrs.of(
            "kernel",
            p,
            "stride",
            p,
            "kernels",
            new long[] {p, 1},
            "strides",
            new long[] {p, 1},
            "pads",
            new long[] {0, 0, p - 1, 0},
            "count_include_pad",
            false);
    Value pooled = g.add(Op.AVG_POOL2D, window, List.of(four), at.loc()).out();
    return three
        ? g.add(Op.SQUEEZE, Attrs.of("axis", 1L), List.of(pooled), at.loc()).out()
        : pooled;
  }
}
