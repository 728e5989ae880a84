package dev.cmod.ir.op;

import static dev.cmod.ir.op.Shapes.broadcast;
import static dev.cmod.ir.op.Shapes.checkAxis;
import static dev.cmod.ir.op.Shapes.one;
import static dev.cmod.ir.op.Shapes.requireFloat;
import static dev.cmod.ir.op.Shapes.sameDtype;
import static dev.cmod.ir.op.Shapes.unify;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * Ops that index, select or convert: take (embedding lookup), gather and scatter of elements along
 * an axis, one_hot, cosine similarity along an axis, top-k (values and i64 indices), cast, and the
 * two ops of sparse dispatch: nonzero (the positions of the true elements of a mask, a count known
 * only at run time) and scatter_add (rows added back at positions).
 */
public final class IndexingOps {
  /** one_hot's number of classes. */
  public static final AttrSpec<Long> N = AttrSpec.integer("n");

  /** The axis cosine reduces and topk selects along; absent: the last. */
  public static final AttrSpec<Long> AXIS = AttrSpec.integer("axis", -1);

  public static final AttrSpec<Long> K = AttrSpec.integer("k");

  /** The axis gather_elements and scatter_elements index along. */
  public static final AttrSpec<Long> ELEMENT_AXIS = AttrSpec.integer("axis", 0);

  /** How scatter_elements combines an update with the data: none (replace), add or mul. */
  public static final AttrSpec<String> REDUCTION = AttrSpec.text("reduction", "none");

  /** cast's target element type. */
  public static final AttrSpec<DType> TO = AttrSpec.dtype("to");

  /**
   * nonzero's count: the name of the symbol its result's axis has (a size only the run knows, so no
   * input binds it; sparse routing names one per route and expert).
   */
  public static final AttrSpec<String> COUNT = AttrSpec.text("count");

  private IndexingOps() {}

  static List<OpDef> defs() {
    return List.of(
        OpDef.of(Op.TAKE, Family.INDEXING)
            .operands("table", "ids")
            .flops(Flops.NONE)
            .infer(IndexingOps::take),
        OpDef.of(Op.ONE_HOT, Family.INDEXING)
            .operands("ids")
            .attrs(N)
            .infer(
                (a, in) -> {
                  TensorType ids = in.get(0);
                  if (!ids.dtype().isInteger()) {
                    throw new ShapeException("one_hot: ids must be integers, got " + ids);
                  }
                  List<Dim> dims = new ArrayList<>(ids.dims());
                  dims.add(Dim.of(N.get(a)));
                  return one(new TensorType(DType.F32, dims));
                }),
        OpDef.of(Op.COSINE, Family.INDEXING)
            .operands("a", "b")
            .attrs(AXIS)
            .flops(Flops.FIVE_PER_INPUT)
            .infer(IndexingOps::cosine),
        OpDef.of(Op.TOPK, Family.INDEXING)
            .operands("x")
            .attrs(K, AXIS)
            .flops(Flops.PER_INPUT)
            .infer(IndexingOps::topk),
        OpDef.of(Op.GATHER_ELEMENTS, Family.INDEXING)
            .operands("data", "indices")
            .attrs(ELEMENT_AXIS)
            .flops(Flops.NONE)
            .infer((a, in) -> one(in.get(0).withDims(elementIndices(Op.GATHER_ELEMENTS, a, in)))),
        OpDef.of(Op.SCATTER_ELEMENTS, Family.INDEXING)
            .operands("data", "indices", "updates")
            .attrs(ELEMENT_AXIS, REDUCTION)
            .flops(Flops.NONE)
            .infer(IndexingOps::scatterElements),
        OpDef.of(Op.CAST, Family.INDEXING)
            .operands("x")
            .attrs(TO)
            .flops(Flops.NONE)
            .infer((a, in) -> one(in.get(0).withDtype(TO.get(a)))),
        OpDef.of(Op.NONZERO, Family.INDEXING)
            .operands("mask")
            .attrs(COUNT)
            .flops(Flops.PER_INPUT)
            .infer(IndexingOps::nonzero),
        OpDef.of(Op.SCATTER_ADD, Family.INDEXING)
            .operands("data", "ids", "updates")
            // one add per updated element
            .flops((in, out, size) -> Flops.elems(in.get(2), size))
            .infer(IndexingOps::scatterAdd));
  }

  private static List<TensorType> nonzero(Attrs a, List<TensorType> in) {
    TensorType m = in.get(0);
    if (m.dtype() != DType.BOOL || m.rank() != 1) {
      throw new ShapeException("nonzero: the mask must be 1-D bool, got " + m);
    }
    return one(new TensorType(DType.I64, List.of(Dim.sym(COUNT.get(a)))));
  }

  private static List<TensorType> scatterAdd(Attrs a, List<TensorType> in) {
    TensorType data = in.get(0);
    TensorType ids = in.get(1);
    TensorType up = in.get(2);
    if (!ids.dtype().isInteger() || ids.rank() != 1) {
      throw new ShapeException("scatter_add: ids must be 1-D integers, got " + ids);
    }
    sameDtype(Op.SCATTER_ADD, data, up);
    if (data.rank() < 1
        || up.rank() != data.rank()
        || !up.dim(0).equals(ids.dim(0))
        || !up.dims().subList(1, up.rank()).equals(data.dims().subList(1, data.rank()))) {
      throw new ShapeException(
          "scatter_add: updates must be one row of data per id, got data "
              + data
              + ", ids "
              + ids
              + ", updates "
              + up);
    }
    return one(data);
  }

  private static List<TensorType> take(Attrs a, List<TensorType> in) {
    TensorType table = in.get(0);
    TensorType ids = in.get(1);
    if (!ids.dtype().isInteger()) {
      throw new ShapeException("take: ids must be integers, got " + ids);
    }
    if (table.rank() < 1) {
      throw new ShapeException("take: the table needs at least one axis");
    }
    List<Dim> dims = new ArrayList<>(ids.dims());
    dims.addAll(table.dims().subList(1, table.rank()));
    return one(table.withDims(dims));
  }

  /** The dims of the indices of gather_elements or scatter_elements, checked against the data. */
  private static List<Dim> elementIndices(Op op, Attrs a, List<TensorType> in) {
    TensorType data = in.get(0);
    TensorType ids = in.get(1);
    if (!ids.dtype().isInteger()) {
      throw new ShapeException(op.text() + ": indices must be integers, got " + ids);
    }
    if (ids.rank() != data.rank() || data.rank() == 0) {
      throw new ShapeException(
          op.text() + ": indices " + ids + " must have the rank of the data " + data);
    }
    checkAxis(op, ELEMENT_AXIS.axis(a, data.rank()), data.rank());
    return ids.dims();
  }

  private static List<TensorType> scatterElements(Attrs a, List<TensorType> in) {
    List<Dim> ids = elementIndices(Op.SCATTER_ELEMENTS, a, in);
    TensorType up = in.get(2);
    sameDtype(Op.SCATTER_ELEMENTS, in.get(0), up);
    if (up.rank() != ids.size()) {
      throw new ShapeException(
          "scatter_elements: updates " + up + " must match the indices " + ids);
    }
    for (int i = 0; i < ids.size(); i++) {
      unify(Op.SCATTER_ELEMENTS, ids.get(i), up.dim(i), i);
    }
    String r = REDUCTION.get(a);
    if (!List.of("none", "add", "mul").contains(r)) {
      throw new ShapeException("scatter_elements: unknown reduction '" + r + "'");
    }
    return one(in.get(0));
  }

  private static List<TensorType> cosine(Attrs a, List<TensorType> in) {
    sameDtype(Op.COSINE, in.get(0), in.get(1));
    requireFloat(Op.COSINE, in.get(0));
    List<Dim> dims = new ArrayList<>(broadcast(in.get(0).dims(), in.get(1).dims()));
    int axis = AXIS.axis(a, dims.size());
    checkAxis(Op.COSINE, axis, dims.size());
    dims.remove(axis);
    return one(in.get(0).withDims(dims));
  }

  private static List<TensorType> topk(Attrs a, List<TensorType> in) {
    TensorType x = in.get(0);
    int axis = AXIS.axis(a, x.rank());
    checkAxis(Op.TOPK, axis, x.rank());
    long k = K.get(a);
    Dim d = x.dim(axis);
    if (d.isKnown() && k > d.value()) {
      throw new ShapeException("topk: k = " + k + " is larger than axis " + axis + " of " + x);
    }
    List<Dim> dims = new ArrayList<>(x.dims());
    dims.set(axis, Dim.of(k));
    return List.of(x.withDims(dims), new TensorType(DType.I64, dims));
  }
}
