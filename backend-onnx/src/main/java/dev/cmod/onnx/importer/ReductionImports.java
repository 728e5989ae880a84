package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Imports of ONNX's reductions: one IR reduction per reduced axis (the IR reduces one axis per
 * node), and ArgMax / ArgMin (ArgMin as ArgMax of the negation).
 */
final class ReductionImports {
  private ReductionImports() {}

  static void register(ImportTable.Registrar r) {
    r.add("ReduceSum", Set.of(Op.REDUCE_SUM), cx -> reduce(cx, "ReduceSum"));
    r.add("ReduceMean", Set.of(Op.REDUCE_MEAN), cx -> reduce(cx, "ReduceMean"));
    r.add("ReduceMax", Set.of(Op.REDUCE_MAX), cx -> reduce(cx, "ReduceMax"));
    r.add("ReduceMin", Set.of(Op.REDUCE_MIN), cx -> reduce(cx, "ReduceMin"));
    r.add("ArgMax", Set.of(Op.ARGMAX), cx -> argmax(cx, false));
    r.add("ArgMin", Set.of(Op.ARGMAX, Op.NEG), cx -> argmax(cx, true));
  }

  private static void reduce(ImportContext cx, String op) {
    Value x = cx.val(cx.need(0));
    int r = x.type().rank();
    long[] axes = cx.attrInts("axes");
    boolean axesInput = op.equals("ReduceSum") ? cx.opset() >= 13 : cx.opset() >= 18;
    if (axesInput) {
      axes = cx.in(1) == null ? null : cx.constInts(cx.in(1), "axes");
    }
    boolean keep = cx.attrInt("keepdims", 1) != 0;
    if (axes == null || axes.length == 0) {
      if (cx.attrInt("noop_with_empty_axes", 0) != 0) {
        cx.out(x);
        return;
      }
      axes = new long[r];
      for (int i = 0; i < r; i++) {
        axes[i] = i;
      }
    }
    Op ir =
        switch (op) {
          case "ReduceSum" -> Op.REDUCE_SUM;
          case "ReduceMean" -> Op.REDUCE_MEAN;
          case "ReduceMax" -> Op.REDUCE_MAX;
          default -> Op.REDUCE_MIN;
        };
    List<Integer> list = new ArrayList<>();
    for (long a : axes) {
      int ax = cx.axis(a, r);
      if (!list.contains(ax)) {
        list.add(ax);
      }
    }
    list.sort((p, q) -> Integer.compare(q, p));
    for (int a : list) {
      x = cx.add(ir, Attrs.of("axis", a, "keep", keep), x);
    }
    cx.out(x);
  }

  private static void argmax(ImportContext cx, boolean min) {
    Value x = cx.val(cx.need(0));
    if (cx.attrInt("select_last_index", 0) != 0) {
      throw cx.unsupportedHere("select_last_index = 1");
    }
    int ax = cx.axis(cx.attrInt("axis", 0), x.type().rank());
    if (min) {
      x = cx.add(Op.NEG, x);
    }
    cx.out(cx.add(Op.ARGMAX, Attrs.of("axis", ax, "keep", cx.attrInt("keepdims", 1) != 0), x));
  }
}
