package dev.cmod.ir.op;

import static dev.cmod.ir.op.Shapes.checkAxis;
import static dev.cmod.ir.op.Shapes.one;
import static dev.cmod.ir.op.Shapes.requireFloat;
import static dev.cmod.ir.op.Shapes.unify;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.List;

/**
 * Normalizations: softmax and log-softmax over one axis, layer norm and RMS norm over the last axis
 * (with a learned scale, and a shift for layer norm). Each epsilon's default is written here only;
 * the builtin table of the language takes it from here.
 */
public final class NormalizationOps {
  /** The softmax axis; absent: the last. */
  public static final AttrSpec<Long> AXIS = AttrSpec.integer("axis", -1);

  /** Layer norm's epsilon (the PyTorch and ONNX default). */
  public static final AttrSpec<Double> LAYER_NORM_EPS = AttrSpec.real("eps", 1e-5);

  /** RMS norm's epsilon (the value Llama-style models use). */
  public static final AttrSpec<Double> RMS_NORM_EPS = AttrSpec.real("eps", 1e-6);

  private NormalizationOps() {}

  static List<OpDef> defs() {
    return List.of(
        softmax(Op.SOFTMAX),
        softmax(Op.LOG_SOFTMAX),
        OpDef.of(Op.LAYER_NORM, Family.NORMALIZATION)
            .operands("x", "gamma", "beta")
            .attrs(LAYER_NORM_EPS)
            .flops(Flops.FIVE_PER_INPUT)
            .infer((a, in) -> norm(Op.LAYER_NORM, a, in)),
        OpDef.of(Op.RMS_NORM, Family.NORMALIZATION)
            .operands("x", "gamma")
            .attrs(RMS_NORM_EPS)
            .flops(Flops.FIVE_PER_INPUT)
            .infer((a, in) -> norm(Op.RMS_NORM, a, in)));
  }

  private static OpDef softmax(Op op) {
    return OpDef.of(op, Family.NORMALIZATION)
        .operands("x")
        .attrs(AXIS)
        .flops(Flops.FIVE_PER_INPUT)
        .infer(
            (a, in) -> {
              requireFloat(op, in.get(0));
              checkAxis(op, AXIS.axis(a, in.get(0).rank()), in.get(0).rank());
              return one(in.get(0));
            });
  }

  private static List<TensorType> norm(Op op, Attrs a, List<TensorType> in) {
    TensorType x = in.get(0);
    requireFloat(op, x);
    if (x.rank() == 0) {
      throw new ShapeException(op.text() + ": needs at least one axis");
    }
    Dim last = x.dim(x.rank() - 1);
    for (int i = 1; i < in.size(); i++) {
      TensorType p = in.get(i);
      if (p.rank() != 1) {
        throw new ShapeException(
            op.text()
                + ": "
                + (i == 1 ? "gamma" : "beta")
                + " must be 1-D over the last axis, got "
                + p);
      }
      unify(op, last, p.dim(0), x.rank() - 1);
    }
    return one(x);
  }
}
