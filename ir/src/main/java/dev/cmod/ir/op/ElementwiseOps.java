package dev.cmod.ir.op;

import static dev.cmod.ir.op.Shapes.broadcast;
import static dev.cmod.ir.op.Shapes.one;
import static dev.cmod.ir.op.Shapes.requireFloat;
import static dev.cmod.ir.op.Shapes.sameDtype;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Elementwise ops: the binary arithmetic and comparisons (NumPy broadcasting; comparisons give
 * bool), the unary functions, and {@code where}.
 */
public final class ElementwiseOps {
  /** GELU's approximation: "none" (the erf form) or "tanh". */
  public static final AttrSpec<String> APPROX = AttrSpec.text("approx", "none");

  /** Unary ops defined on integers too; the others need floating point. */
  private static final Set<Op> INTEGER_UNARY = Set.of(Op.NEG, Op.ABS, Op.RELU);

  /** Unary ops estimated as transcendental (about four operations per element). */
  private static final Set<Op> TRANSCENDENTAL =
      Set.of(Op.GELU, Op.SILU, Op.ERF, Op.TANH, Op.SIGMOID, Op.EXP, Op.LOG);

  private ElementwiseOps() {}

  static List<OpDef> defs() {
    List<OpDef> defs = new ArrayList<>();
    for (Op op : Op.values()) {
      if (op.isElementwiseBinary()) {
        defs.add(binary(op));
      } else if (op.isElementwiseUnary()) {
        defs.add(unary(op));
      }
    }
    defs.add(
        OpDef.of(Op.WHERE, Family.ELEMENTWISE)
            .operands("cond", "a", "b")
            .infer(
                (a, in) -> {
                  if (in.get(0).dtype() != DType.BOOL) {
                    throw new ShapeException("where: the condition must be bool, got " + in.get(0));
                  }
                  sameDtype(Op.WHERE, in.get(1), in.get(2));
                  return one(
                      new TensorType(
                          in.get(1).dtype(),
                          broadcast(
                              in.get(0).dims(), broadcast(in.get(1).dims(), in.get(2).dims()))));
                }));
    return defs;
  }

  private static OpDef binary(Op op) {
    OpDef.Builder b = OpDef.of(op, Family.ELEMENTWISE);
    b = op == Op.POW ? b.operands("x", "p") : b.operands("a", "b");
    return b.infer(
        (a, in) -> {
          TensorType x = in.get(0);
          TensorType y = in.get(1);
          sameDtype(op, x, y);
          return one(
              new TensorType(
                  op.isComparison() ? DType.BOOL : x.dtype(), broadcast(x.dims(), y.dims())));
        });
  }

  private static OpDef unary(Op op) {
    OpDef.Builder b = OpDef.of(op, Family.ELEMENTWISE).operands("x");
    if (op == Op.GELU) {
      b.attrs(APPROX);
    }
    if (TRANSCENDENTAL.contains(op)) {
      b.flops(Flops.TRANSCENDENTAL);
    }
    return b.infer(
        (a, in) -> {
          TensorType x = in.get(0);
          if (!INTEGER_UNARY.contains(op)) {
            requireFloat(op, x);
          }
          return one(x);
        });
  }
}
