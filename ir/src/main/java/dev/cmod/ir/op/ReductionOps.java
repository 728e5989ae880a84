package dev.cmod.ir.op;

import static dev.cmod.ir.op.Shapes.checkAxis;
import static dev.cmod.ir.op.Shapes.one;
import static dev.cmod.ir.op.Shapes.requireFloat;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * Reductions over one axis: sum, mean, max, min, product and argmax (whose result is i64 indices).
 * The reduced axis is dropped unless {@code keep} holds it as size 1. Also the running sum along
 * one axis, {@code cumsum}, which keeps the shape.
 */
public final class ReductionOps {
  /** The reduced axis; absent: the last. */
  public static final AttrSpec<Long> AXIS = AttrSpec.integer("axis", -1);

  /** Keep the reduced axis as size 1. */
  public static final AttrSpec<Boolean> KEEP = AttrSpec.bool("keep", false);

  /**
   * Argmax: on ties, the last index of the maximum (ONNX's select_last_index) instead of the first.
   */
  public static final AttrSpec<Boolean> LAST = AttrSpec.bool("last", false).internal();

  /** Cumsum: each sum leaves out its own element (starts from 0). */
  public static final AttrSpec<Boolean> EXCLUSIVE = AttrSpec.bool("exclusive", false);

  /** Cumsum: sums from the end of the axis. */
  public static final AttrSpec<Boolean> REVERSE = AttrSpec.bool("reverse", false);

  private ReductionOps() {}

  static List<OpDef> defs() {
    List<OpDef> defs = new ArrayList<>();
    for (Op op :
        List.of(
            Op.REDUCE_SUM,
            Op.REDUCE_MEAN,
            Op.REDUCE_MAX,
            Op.REDUCE_MIN,
            Op.REDUCE_PROD,
            Op.ARGMAX)) {
      defs.add(
          OpDef.of(op, Family.REDUCTION)
              .operands("x")
              .attrs(
                  op == Op.ARGMAX
                      ? new AttrSpec<?>[] {AXIS, KEEP, LAST}
                      : new AttrSpec<?>[] {AXIS, KEEP})
              .flops(Flops.PER_INPUT)
              .infer(
                  (a, in) -> {
                    TensorType x = in.get(0);
                    int axis = AXIS.axis(a, x.rank());
                    checkAxis(op, axis, x.rank());
                    if (op == Op.REDUCE_MEAN) {
                      requireFloat(op, x);
                    }
                    List<Dim> dims = new ArrayList<>(x.dims());
                    if (KEEP.get(a)) {
                      dims.set(axis, Dim.of(1));
                    } else {
                      dims.remove(axis);
                    }
                    return one(new TensorType(op == Op.ARGMAX ? DType.I64 : x.dtype(), dims));
                  }));
    }
    defs.add(
        OpDef.of(Op.CUMSUM, Family.REDUCTION)
            .operands("x")
            .attrs(AXIS, EXCLUSIVE, REVERSE)
            .flops(Flops.PER_INPUT)
            .infer(
                (a, in) -> {
                  TensorType x = in.get(0);
                  checkAxis(Op.CUMSUM, AXIS.axis(a, x.rank()), x.rank());
                  if (x.dtype() == DType.BOOL) {
                    throw new ShapeException("cumsum: needs numbers, got " + x);
                  }
                  return one(x);
                }));
    return defs;
  }
}
