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
 * Elementwise ops: the binary arithmetic, logic and comparisons (NumPy broadcasting; comparisons
 * give bool), the unary functions and predicates, and {@code where}. The semantics are ONNX's (the
 * importer raises ONNX's operators into these one for one): {@code round} takes halves to even,
 * {@code mod} follows the sign of the divisor unless {@code fmod} is set.
 */
public final class ElementwiseOps {
  /** GELU's approximation: "none" (the erf form) or "tanh". */
  public static final AttrSpec<String> APPROX = AttrSpec.text("approx", "none");

  /**
   * Mod's remainder: false takes the sign of the divisor (Python's {@code %}, integers only, as in
   * ONNX), true the sign of the dividend (C's {@code fmod}; required for floating point).
   */
  public static final AttrSpec<Boolean> FMOD = AttrSpec.bool("fmod", false);

  /** IsInf: whether negative infinity counts. */
  public static final AttrSpec<Boolean> DETECT_NEGATIVE = AttrSpec.bool("detect_negative", true);

  /** IsInf: whether positive infinity counts. */
  public static final AttrSpec<Boolean> DETECT_POSITIVE = AttrSpec.bool("detect_positive", true);

  /** Unary ops defined on integers too; the others need floating point (or bool, for not). */
  private static final Set<Op> INTEGER_UNARY = Set.of(Op.NEG, Op.ABS, Op.RELU, Op.SIGN);

  /** Binary ops of bool operands. */
  private static final Set<Op> LOGICAL = Set.of(Op.AND, Op.OR, Op.XOR);

  /** Unary ops estimated as transcendental (about four operations per element). */
  private static final Set<Op> TRANSCENDENTAL =
      Set.of(
          Op.GELU,
          Op.SILU,
          Op.ERF,
          Op.TANH,
          Op.SIGMOID,
          Op.EXP,
          Op.LOG,
          Op.SIN,
          Op.COS,
          Op.TAN,
          Op.ASIN,
          Op.ACOS,
          Op.ATAN,
          Op.SINH,
          Op.COSH,
          Op.ASINH,
          Op.ACOSH,
          Op.ATANH);

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
    if (op == Op.MOD) {
      b.attrs(FMOD);
    }
    return b.infer(
        (a, in) -> {
          TensorType x = in.get(0);
          TensorType y = in.get(1);
          sameDtype(op, x, y);
          if (LOGICAL.contains(op)) {
            requireBool(op, x);
          } else if (op == Op.MOD && x.dtype() == DType.BOOL) {
            throw new ShapeException("mod: needs numbers, got " + x);
          }
          if (op == Op.MOD && x.dtype().isFloat() && !FMOD.get(a)) {
            throw new ShapeException(
                "mod: floating-point operands need fmod = true (the sign of the dividend), got "
                    + x);
          }
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
    if (op == Op.IS_INF) {
      b.attrs(DETECT_NEGATIVE, DETECT_POSITIVE);
    }
    if (TRANSCENDENTAL.contains(op)) {
      b.flops(Flops.TRANSCENDENTAL);
    }
    return b.infer(
        (a, in) -> {
          TensorType x = in.get(0);
          if (op == Op.NOT) {
            requireBool(op, x);
            return one(x);
          }
          if (!INTEGER_UNARY.contains(op) || (op == Op.SIGN && x.dtype() == DType.BOOL)) {
            requireFloat(op, x);
          }
          if (op == Op.IS_NAN || op == Op.IS_INF) {
            return one(new TensorType(DType.BOOL, x.dims()));
          }
          return one(x);
        });
  }

  private static void requireBool(Op op, TensorType t) {
    if (t.dtype() != DType.BOOL) {
      throw new ShapeException(op.text() + ": needs a bool tensor, got " + t);
    }
  }
}
