package dev.cmod.ir.op;

import static dev.cmod.ir.op.Shapes.broadcast;
import static dev.cmod.ir.op.Shapes.one;
import static dev.cmod.ir.op.Shapes.requireFloat;
import static dev.cmod.ir.op.Shapes.unify;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * The contractions: matrix multiplication (NumPy {@code @} semantics, batch dims broadcast) and
 * scaled dot-product attention over {@code [..., seq, head_dim]} with an optional additive mask.
 */
public final class AttentionOps {
  /** Mask out keys after the query's position. */
  public static final AttrSpec<Boolean> CAUSAL = AttrSpec.bool("causal", false);

  /**
   * Keys before the sequence that every query may see (prefix tuning prepends them), so the causal
   * diagonal moves right by this many; set by the compiler only.
   */
  public static final AttrSpec<Long> CAUSAL_OFFSET =
      AttrSpec.integer("causal_offset", 0).internal();

  private AttentionOps() {}

  static List<OpDef> defs() {
    return List.of(
        OpDef.of(Op.MATMUL, Family.ATTENTION)
            .operands("a", "b")
            .flops((in, out, s) -> 2 * Flops.elems(out, s) * Flops.axis(in.get(0), -1, s))
            .infer((a, in) -> one(matmul(in.get(0), in.get(1)))),
        OpDef.of(Op.ATTENTION, Family.ATTENTION)
            .operands("q", "k", "v")
            .optional("mask")
            .attrs(CAUSAL, CAUSAL_OFFSET)
            .flops(AttentionOps::attentionFlops)
            .infer(AttentionOps::attention));
  }

  private static double attentionFlops(List<TensorType> in, TensorType out, DimSize s) {
    TensorType q = in.get(0);
    TensorType k = in.get(1);
    double lk = Flops.axis(k, k.rank() - 2, s);
    double e = Flops.axis(q, q.rank() - 1, s);
    return 4 * Flops.elems(q, s) / Math.max(1, e) * lk * e;
  }

  private static List<TensorType> attention(Attrs a, List<TensorType> in) {
    Op op = Op.ATTENTION;
    TensorType q = in.get(0);
    TensorType k = in.get(1);
    TensorType v = in.get(2);
    for (TensorType t : List.of(q, k, v)) {
      requireFloat(op, t);
      if (t.rank() < 2) {
        throw new ShapeException("attention: q, k, v need shape [..., seq, head_dim], got " + t);
      }
    }
    int r = q.rank();
    if (k.rank() != r || v.rank() != r) {
      throw new ShapeException(
          "attention: q, k and v need the same rank, got " + q + ", " + k + ", " + v);
    }
    unify(op, q.dim(r - 1), k.dim(r - 1), r - 1);
    unify(op, k.dim(r - 2), v.dim(r - 2), r - 2);
    List<Dim> lead =
        broadcast(
            q.dims().subList(0, r - 2),
            broadcast(k.dims().subList(0, r - 2), v.dims().subList(0, r - 2)));
    List<Dim> dims = new ArrayList<>(lead);
    dims.add(q.dim(r - 2));
    dims.add(v.dim(r - 1));
    if (in.size() == 4) {
      List<Dim> scores = new ArrayList<>(lead);
      scores.add(q.dim(r - 2));
      scores.add(k.dim(r - 2));
      broadcast(scores, in.get(3).dims());
    }
    return one(q.withDims(dims));
  }

  private static TensorType matmul(TensorType x, TensorType y) {
    if (x.dtype() != y.dtype()) {
      throw new ShapeException("@: element types differ: " + x + " and " + y);
    }
    requireFloat(Op.MATMUL, x);
    if (x.rank() == 0 || y.rank() == 0) {
      throw new ShapeException("@: operands must have at least one axis, got " + x + " and " + y);
    }
    List<Dim> a = new ArrayList<>(x.dims());
    List<Dim> b = new ArrayList<>(y.dims());
    boolean va = a.size() == 1;
    boolean vb = b.size() == 1;
    if (va) {
      a.add(0, Dim.of(1));
    }
    if (vb) {
      b.add(Dim.of(1));
    }
    Dim k1 = a.get(a.size() - 1);
    Dim k2 = b.get(b.size() - 2);
    if (!k1.isUnknown() && !k2.isUnknown() && !k1.equals(k2)) {
      throw new ShapeException(
          "@: inner dims differ: " + x + " @ " + y + " (" + k1 + " vs " + k2 + ")");
    }
    List<Dim> lead = broadcast(a.subList(0, a.size() - 2), b.subList(0, b.size() - 2));
    List<Dim> out = new ArrayList<>(lead);
    if (!va) {
      out.add(a.get(a.size() - 2));
    }
    if (!vb) {
      out.add(b.get(b.size() - 1));
    }
    return new TensorType(x.dtype(), out);
  }
}
