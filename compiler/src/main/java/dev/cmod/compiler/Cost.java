package dev.cmod.compiler;

import dev.cmod.compiler.sema.ModelFacts;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * Static cost estimates: parameter counts and floating-point operations per sample (batch = 1,
 * other symbolic dims at their upper bound from where clauses, or 1 without one).
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
      if (n.op() == Op.PARAM) {
        long c = n.attrs().getTensor("value").size();
        total += c;
        if (n.attrs().getBool("trainable", true)) {
          trainable += c;
        }
      }
    }
    return new Params(total, trainable);
  }

  /** Estimated FLOPs of one sample. */
  public static double flops(Graph g, ModelFacts facts) {
    double total = 0;
    for (Node n : g.nodes()) {
      List<Value> in = g.operands(n);
      double out = elems(n.type(), facts);
      total +=
          switch (n.op()) {
            case INPUT,
                PARAM,
                CONST,
                RESHAPE,
                TRANSPOSE,
                CONCAT,
                SPLIT,
                SLICE,
                UNSQUEEZE,
                SQUEEZE,
                BROADCAST,
                CAST,
                TAKE ->
                0;
            case MATMUL -> 2 * out * size(in.get(0).type(), -1, facts);
            case CONV1D, CONV2D -> {
              TensorType w = in.get(1).type();
              double k = 1;
              for (int i = 1; i < w.rank(); i++) {
                k *= size(w, i, facts);
              }
              yield 2 * out * k;
            }
            case ATTENTION -> {
              TensorType q = in.get(0).type();
              TensorType k = in.get(1).type();
              double lk = size(k, k.rank() - 2, facts);
              double e = size(q, q.rank() - 1, facts);
              yield 4 * elems(q, facts) / Math.max(1, e) * lk * e;
            }
            case LAYER_NORM, RMS_NORM, SOFTMAX, LOG_SOFTMAX, COSINE ->
                5 * elems(in.get(0).type(), facts);
            case REDUCE_SUM, REDUCE_MEAN, REDUCE_MAX, REDUCE_MIN, ARGMAX, TOPK ->
                elems(in.get(0).type(), facts);
            case GELU, SILU, ERF, TANH, SIGMOID, EXP, LOG -> 4 * out;
            // the dense form: a multiply per expert and an add between them
            case ROUTE -> (2.0 * (in.size() - 1) - 1) * out;
            default -> out;
          };
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
      TensorType k = g.operands(n).get(1).type();
      Dim d = k.dim(k.rank() - 2);
      try {
        long v =
            d.isKnown()
                ? d.value()
                : d.eval(
                    s -> {
                      long[] r = facts.bounds().get(s);
                      if (r == null || r[1] == Long.MAX_VALUE) {
                        throw new IllegalStateException(s);
                      }
                      return r[1];
                    });
        max = Math.max(max, v);
      } catch (IllegalStateException | ArithmeticException e) {
        return -1;
      }
    }
    return max;
  }

  private static double size(TensorType t, int axis, ModelFacts facts) {
    if (axis < 0) {
      axis += t.rank();
    }
    return value(t.dim(axis), facts);
  }

  private static double elems(TensorType t, ModelFacts facts) {
    double e = 1;
    for (Dim d : t.dims()) {
      e *= value(d, facts);
    }
    return e;
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
