package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Imports of ONNX's reductions: one IR reduction per reduced axis (the IR reduces one axis per
 * node); the L1, L2, sum-of-squares, log-sum and log-sum-exp reductions composed of IR operators;
 * ArgMax / ArgMin (ArgMin as ArgMax of the negation); CumSum; the classification losses ({@link
 * Losses}).
 */
final class ReductionImports {
  private ReductionImports() {}

  static void register(ImportTable.Registrar r) {
    r.add("ReduceSum", Set.of(Op.REDUCE_SUM), cx -> reduce(cx, Op.REDUCE_SUM));
    r.add("ReduceMean", Set.of(Op.REDUCE_MEAN), cx -> reduce(cx, Op.REDUCE_MEAN));
    r.add("ReduceMax", Set.of(Op.REDUCE_MAX, Op.CAST), cx -> reduce(cx, Op.REDUCE_MAX));
    r.add("ReduceMin", Set.of(Op.REDUCE_MIN, Op.CAST), cx -> reduce(cx, Op.REDUCE_MIN));
    r.add("ReduceProd", Set.of(Op.REDUCE_PROD), cx -> reduce(cx, Op.REDUCE_PROD));
    r.add(
        "ReduceL1",
        Set.of(Op.ABS, Op.REDUCE_SUM),
        cx -> derived(cx, false, (x, axes, keep) -> sum(cx, cx.add(Op.ABS, x), axes, keep)));
    r.add(
        "ReduceSumSquare",
        Set.of(Op.MUL, Op.REDUCE_SUM),
        cx -> derived(cx, false, (x, axes, keep) -> sum(cx, cx.add(Op.MUL, x, x), axes, keep)));
    r.add(
        "ReduceL2",
        Set.of(Op.MUL, Op.REDUCE_SUM, Op.SQRT),
        cx ->
            derived(
                cx,
                true,
                (x, axes, keep) -> cx.add(Op.SQRT, sum(cx, cx.add(Op.MUL, x, x), axes, keep))));
    r.add(
        "ReduceLogSum",
        Set.of(Op.REDUCE_SUM, Op.LOG),
        cx -> derived(cx, true, (x, axes, keep) -> cx.add(Op.LOG, sum(cx, x, axes, keep))));
    r.add(
        "ReduceLogSumExp",
        Set.of(Op.REDUCE_MAX, Op.SUB, Op.EXP, Op.REDUCE_SUM, Op.LOG, Op.ADD),
        cx -> derived(cx, true, (x, axes, keep) -> logSumExp(cx, x, axes, keep)));
    r.add("ArgMax", Set.of(Op.ARGMAX), cx -> argmax(cx, false));
    r.add("ArgMin", Set.of(Op.ARGMAX, Op.NEG), cx -> argmax(cx, true));
    r.add("CumSum", Set.of(Op.CUMSUM), ReductionImports::cumsum);
    r.add("NegativeLogLikelihoodLoss", Losses.RAISES, Losses::nll);
    r.add("SoftmaxCrossEntropyLoss", Losses.RAISES, Losses::softmaxCrossEntropy);
  }

  /** A reduction composed of IR operators over the reduced axes (highest first). */
  private interface Composed {
    Value of(Value x, List<Integer> axes, boolean keep);
  }

  /**
   * The axes to reduce, highest first (every axis when none are given); null when the node reduces
   * nothing ({@code noop_with_empty_axes} with no axes).
   */
  private static List<Integer> axes(ImportContext cx, Value x, boolean axesInput) {
    int r = x.type().rank();
    long[] axes = cx.attrInts("axes");
    if (axesInput) {
      axes = cx.in(1) == null ? null : cx.constInts(cx.in(1), "axes");
    }
    if (axes == null || axes.length == 0) {
      if (cx.attrInt("noop_with_empty_axes", 0) != 0) {
        return null;
      }
      axes = new long[r];
      for (int i = 0; i < r; i++) {
        axes[i] = i;
      }
    }
    List<Integer> list = new ArrayList<>();
    for (long a : axes) {
      int ax = cx.axis(a, r);
      if (!list.contains(ax)) {
        list.add(ax);
      }
    }
    list.sort((p, q) -> Integer.compare(q, p));
    return list;
  }

  private static Value each(ImportContext cx, Op ir, Value x, List<Integer> axes, boolean keep) {
    for (int a : axes) {
      x = cx.add(ir, Attrs.of("axis", a, "keep", keep), x);
    }
    return x;
  }

  private static Value sum(ImportContext cx, Value x, List<Integer> axes, boolean keep) {
    return each(cx, Op.REDUCE_SUM, x, axes, keep);
  }

  private static void reduce(ImportContext cx, Op ir) {
    Value x = cx.val(cx.need(0));
    List<Integer> axes = axes(cx, x, ir == Op.REDUCE_SUM ? cx.opset() >= 13 : cx.opset() >= 18);
    if (axes == null) {
      cx.out(x);
      return;
    }
    boolean keep = cx.attrInt("keepdims", 1) != 0;
    if (x.type().dtype() == DType.BOOL && (ir == Op.REDUCE_MAX || ir == Op.REDUCE_MIN)) {
      // any / all (opset 20): ONNX's reductions at the emitted opset take no booleans
      Value asInt = cx.add(Op.CAST, Attrs.of("to", DType.I32), x);
      cx.out(cx.add(Op.CAST, Attrs.of("to", DType.BOOL), each(cx, ir, asInt, axes, keep)));
      return;
    }
    cx.out(each(cx, ir, x, axes, keep));
  }

  /**
   * ReduceL1, L2, SumSquare, LogSum and LogSumExp (axes an input from opset 18), composed; those
   * ending in a square root or logarithm need floating point.
   */
  private static void derived(ImportContext cx, boolean needsFloat, Composed how) {
    Value x = cx.val(cx.need(0));
    if (needsFloat && !x.type().dtype().isFloat()) {
      throw cx.unsupportedHere("element type " + x.type().dtype());
    }
    List<Integer> axes = axes(cx, x, cx.opset() >= 18);
    if (axes == null) {
      throw cx.unsupportedHere("noop_with_empty_axes = 1 without axes");
    }
    cx.out(how.of(x, axes, cx.attrInt("keepdims", 1) != 0));
  }

  /**
   * log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the maximum over the axes, which does not
   * overflow; over an empty axis (where there is no maximum) the plain form, which gives -inf.
   */
  private static Value logSumExp(ImportContext cx, Value x, List<Integer> axes, boolean keep) {
    for (int a : axes) {
      Dim d = x.type().dims().get(a);
      if (d.isKnown() && d.value() == 0) {
        return cx.add(Op.LOG, sum(cx, cx.add(Op.EXP, x), axes, keep));
      }
    }
    Value mKeep = each(cx, Op.REDUCE_MAX, x, axes, true);
    Value m = keep ? mKeep : each(cx, Op.REDUCE_MAX, x, axes, false);
    Value s = sum(cx, cx.add(Op.EXP, cx.add(Op.SUB, x, mKeep)), axes, keep);
    return cx.add(Op.ADD, cx.add(Op.LOG, s), m);
  }

  private static void argmax(ImportContext cx, boolean min) {
    Value x = cx.val(cx.need(0));
    int ax = cx.axis(cx.attrInt("axis", 0), x.type().rank());
    if (min) {
      x = cx.add(Op.NEG, x);
    }
    boolean keep = cx.attrInt("keepdims", 1) != 0;
    Attrs a =
        cx.attrInt("select_last_index", 0) != 0
            ? Attrs.of("axis", ax, "keep", keep, "last", true)
            : Attrs.of("axis", ax, "keep", keep);
    cx.out(cx.add(Op.ARGMAX, a, x));
  }

  private static void cumsum(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    long[] axis = cx.constInts(cx.need(1), "axis");
    if (axis.length != 1) {
      throw cx.unsupportedHere("an axis of " + axis.length + " values");
    }
    cx.out(
        cx.add(
            Op.CUMSUM,
            Attrs.of(
                "axis",
                cx.axis(axis[0], x.type().rank()),
                "exclusive",
                cx.attrInt("exclusive", 0) != 0,
                "reverse",
                cx.attrInt("reverse", 0) != 0),
            x));
  }
}
