package dev.cmod.ir.op;

import static dev.cmod.ir.op.Shapes.checkAxis;
import static dev.cmod.ir.op.Shapes.one;
import static dev.cmod.ir.op.Shapes.requireFloat;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * Reductions over one axis: sum, mean, max, min and argmax (whose result is i64 indices). The
 * reduced axis is dropped unless {@code keep} holds it as size 1.
 */
public final class ReductionOps {
  /** The reduced axis; absent: the last. */
  public static final AttrSpec<Long> AXIS = AttrSpec.integer("axis", -1);

  /** Keep the reduced axis as size 1. */
  public static final AttrSpec<Boolean> KEEP = AttrSpec.bool("keep", false);

  private ReductionOps() {}

  static List<OpDef> defs() {
    List<OpDef> defs = new ArrayList<>();
    for (Op op : List.of(Op.REDUCE_SUM, Op.REDUCE_MEAN, Op.REDUCE_MAX, Op.REDUCE_MIN, Op.ARGMAX)) {
      defs.add(
          OpDef.of(op, Family.REDUCTION)
              .operands("x")
              .attrs(AXIS, KEEP)
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
    return defs;
  }
}
