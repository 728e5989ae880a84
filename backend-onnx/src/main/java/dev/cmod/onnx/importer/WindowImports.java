package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.ImportContext.product;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Imports of ONNX's window operators: 1-D and 2-D Conv, 2-D AveragePool and MaxPool (auto_pad
 * resolved at import time), and the global poolings as reductions over the spatial axes.
 */
final class WindowImports {
  private WindowImports() {}

  /** A global pooling as one kept reduction {@code r} per spatial axis. */
  /**
   * A global pool over the spatial axes. The mean is taken once over them flattened into one axis,
   * which rounds closer to ONNX Runtime's GlobalAveragePool than a mean of means (measured on
   * PP-OCRv4: 9.5e-6 against 1.9e-5 on its probabilities); the maximum is exact either way.
   */
  private static void globalPool(ImportContext cx, Op r) {
    Value x = cx.val(cx.need(0));
    int rank = x.type().rank();
    if (r == Op.REDUCE_MEAN && rank > 3) {
      List<Dim> dims = x.type().dims();
      List<Dim> flat = new ArrayList<>(dims.subList(0, 2));
      flat.add(product(dims.subList(2, rank)));
      Value m = cx.add(r, Attrs.of("axis", 2, "keep", true), cx.reshape(x, flat));
      List<Dim> back = new ArrayList<>(dims.subList(0, 2));
      for (int a = 2; a < rank; a++) {
        back.add(Dim.of(1));
      }
      cx.out(cx.reshape(m, back));
      return;
    }
    for (int a = rank - 1; a >= 2; a--) {
      x = cx.add(r, Attrs.of("axis", a, "keep", true), x);
    }
    cx.out(x);
  }

  static void register(ImportTable.Registrar r) {
    r.add("Conv", Set.of(Op.CONV1D, Op.CONV2D), WindowImports::conv);
    r.add("AveragePool", Set.of(Op.AVG_POOL2D), cx -> pool(cx, false));
    r.add("MaxPool", Set.of(Op.MAX_POOL2D), cx -> pool(cx, true));
    r.add(
        "GlobalAveragePool",
        Set.of(Op.REDUCE_MEAN, Op.RESHAPE),
        cx -> globalPool(cx, Op.REDUCE_MEAN));
    r.add("GlobalMaxPool", Set.of(Op.REDUCE_MAX), cx -> globalPool(cx, Op.REDUCE_MAX));
  }

  /** Begin and end pads of every spatial axis, resolving auto_pad (SAME_* needs known sizes). */
  private static long[] pads(
      ImportContext cx, TensorType x, long[] kernel, long[] strides, long[] dil) {
    int sp = kernel.length;
    String auto = cx.attrString("auto_pad", "NOTSET");
    long[] pads = cx.attrInts("pads");
    if (auto.equals("NOTSET") || auto.isEmpty()) {
      return pads == null ? new long[2 * sp] : pads;
    }
    if (auto.equals("VALID")) {
      return new long[2 * sp];
    }
    long[] out = new long[2 * sp];
    for (int i = 0; i < sp; i++) {
      Dim d = x.dim(2 + i);
      if (!d.isKnown()) {
        throw cx.unsupportedHere("auto_pad " + auto + " on an axis of size " + d);
      }
      long in = d.value();
      long o = (in + strides[i] - 1) / strides[i];
      long total = Math.max(0, (o - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - in);
      long small = total / 2;
      boolean upper = auto.equals("SAME_UPPER");
      out[i] = upper ? small : total - small;
      out[sp + i] = upper ? total - small : small;
    }
    return out;
  }

  private static long[] filled(int n, long v) {
    long[] a = new long[n];
    Arrays.fill(a, v);
    return a;
  }

  private static boolean allEqual(long[] a, long v) {
    for (long x : a) {
      if (x != v) {
        return false;
      }
    }
    return true;
  }

  private static void conv(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    Value w = cx.val(cx.need(1));
    Value b = cx.in(2) == null ? null : cx.val(cx.in(2));
    int sp = x.type().rank() - 2;
    if (sp != 1 && sp != 2) {
      throw cx.unsupportedHere(sp + "-D convolution");
    }
    long[] kernel = new long[sp];
    for (int i = 0; i < sp; i++) {
      Dim k = w.type().dim(2 + i);
      if (!k.isKnown()) {
        throw cx.unsupportedHere("a kernel of unknown size");
      }
      kernel[i] = k.value();
    }
    long[] strides = cx.attrInts("strides") == null ? filled(sp, 1) : cx.attrInts("strides");
    long[] dil = cx.attrInts("dilations") == null ? filled(sp, 1) : cx.attrInts("dilations");
    long group = cx.attrInt("group", 1);
    long[] pads = pads(cx, x.type(), kernel, strides, dil);
    Attrs a;
    if (group == 1
        && allEqual(dil, 1)
        && allEqual(strides, strides[0])
        && allEqual(pads, pads[0])) {
      a = Attrs.of("stride", strides[0], "padding", pads[0]);
    } else {
      a =
          Attrs.of(
              "stride",
              strides[0],
              "padding",
              pads[0],
              "strides",
              strides,
              "pads",
              pads,
              "dilations",
              dil,
              "groups",
              group);
    }
    Op op = sp == 1 ? Op.CONV1D : Op.CONV2D;
    cx.out(b == null ? cx.add(op, a, x, w) : cx.add(op, a, x, w, b));
  }

  private static void pool(ImportContext cx, boolean max) {
    if (max) {
      cx.onlyFirstOutput();
    }
    Value x = cx.val(cx.need(0));
    if (x.type().rank() != 4) {
      throw cx.unsupportedHere(
          "pooling of a rank-"
              + x.type().rank()
              + " tensor (only 2-D pooling over [N, C, H, W] is)");
    }
    long[] kernel = cx.attrInts("kernel_shape");
    if (kernel == null || kernel.length != 2) {
      throw new ImportException("ONNX operator " + cx.describe() + " needs a 2-D kernel_shape");
    }
    if (cx.attrInt("ceil_mode", 0) != 0) {
      throw cx.unsupportedHere("ceil_mode = 1");
    }
    long[] dil = cx.attrInts("dilations");
    if (dil != null && !allEqual(dil, 1)) {
      throw cx.unsupportedHere("dilations " + Arrays.toString(dil));
    }
    long[] strides = cx.attrInts("strides") == null ? filled(2, 1) : cx.attrInts("strides");
    long[] pads = pads(cx, x.type(), kernel, strides, filled(2, 1));
    boolean includePad = cx.attrInt("count_include_pad", 0) != 0;
    Attrs a;
    if (kernel[0] == kernel[1] && strides[0] == strides[1] && allEqual(pads, 0)) {
      a = Attrs.of("kernel", kernel[0], "stride", strides[0]);
    } else {
      a =
          Attrs.of(
              "kernel",
              kernel[0],
              "stride",
              strides[0],
              "kernels",
              kernel,
              "strides",
              strides,
              "pads",
              pads);
      if (!max) {
        a = a.with("count_include_pad", includePad);
      }
    }
    cx.out(cx.add(max ? Op.MAX_POOL2D : Op.AVG_POOL2D, a, x));
  }
}
