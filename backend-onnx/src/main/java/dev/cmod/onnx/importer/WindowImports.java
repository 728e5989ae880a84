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
 * Imports of ONNX's window operators: 1-D and 2-D Conv, 1-D to 3-D AveragePool and MaxPool
 * (auto_pad and ceil_mode resolved at import time into pads), the global poolings as reductions
 * over the spatial axes, and Resize ({@link Resampling}).
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
    r.add("DepthToSpace", Set.of(Op.RESHAPE, Op.TRANSPOSE), cx -> blocks(cx, true));
    r.add("SpaceToDepth", Set.of(Op.RESHAPE, Op.TRANSPOSE), cx -> blocks(cx, false));
    r.add("ConvTranspose", Set.of(Op.CONV_TRANSPOSE), WindowImports::convTranspose);
    r.add("AveragePool", Set.of(Op.AVG_POOL2D, Op.RESHAPE), cx -> pool(cx, false));
    r.add("MaxPool", Set.of(Op.MAX_POOL2D, Op.RESHAPE), cx -> pool(cx, true));
    r.add(
        "Resize",
        Set.of(Op.TAKE, Op.TRANSPOSE, Op.MUL, Op.ADD, Op.RESHAPE, Op.BROADCAST),
        Resampling::resize);
    r.add(
        "Upsample",
        Set.of(Op.TAKE, Op.TRANSPOSE, Op.MUL, Op.ADD, Op.RESHAPE, Op.BROADCAST),
        Resampling::upsample);
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

  /**
   * ConvTranspose, its output_shape and auto_pad resolved into pads as the specification says (an
   * odd total padding puts the extra cell at the end for SAME_UPPER, at the beginning otherwise),
   * an output larger than the kernels reach into output padding.
   */
  private static void convTranspose(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    Value w = cx.val(cx.need(1));
    Value b = cx.in(2) == null ? null : cx.val(cx.in(2));
    int sp = x.type().rank() - 2;
    if (sp < 1 || sp > 3) {
      throw cx.unsupportedHere(sp + "-D transposed convolution");
    }
    long[] kernel = new long[sp];
    for (int i = 0; i < sp; i++) {
      Dim k = w.type().dim(2 + i);
      if (!k.isKnown()) {
        throw cx.unsupportedHere("a kernel of unknown size");
      }
      kernel[i] = k.value();
    }
    long[] strides = orFilled(cx.attrInts("strides"), sp, 1);
    long[] dil = orFilled(cx.attrInts("dilations"), sp, 1);
    long[] extra = orFilled(cx.attrInts("output_padding"), sp, 0).clone();
    long[] pads = orFilled(cx.attrInts("pads"), 2 * sp, 0).clone();
    long[] shape = cx.attrInts("output_shape");
    String auto = cx.attrString("auto_pad", "NOTSET");
    boolean same = auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER");
    if (auto.equals("VALID")) {
      pads = new long[2 * sp];
    }
    if (shape != null || same) {
      if (shape != null && shape.length != sp) {
        throw cx.unsupportedHere("an output_shape of " + shape.length + " values");
      }
      for (int i = 0; i < sp; i++) {
        Dim d = x.type().dim(2 + i);
        if (!d.isKnown()) {
          throw cx.unsupportedHere("output_shape or auto_pad on an axis of size " + d);
        }
        long full = (d.value() - 1) * strides[i] + extra[i] + (kernel[i] - 1) * dil[i] + 1;
        long target = shape != null ? shape[i] : d.value() * strides[i];
        long total = full - target;
        if (total < 0) {
          // a larger output than the kernels reach: its last cells hold the bias alone
          extra[i] -= total;
          total = 0;
        }
        boolean upper = auto.equals("SAME_UPPER");
        pads[i] = upper ? total / 2 : total - total / 2;
        pads[sp + i] = upper ? total - total / 2 : total / 2;
      }
    }
    Attrs a =
        Attrs.of(
            "strides",
            strides,
            "pads",
            pads,
            "dilations",
            dil,
            "output_padding",
            extra,
            "groups",
            cx.attrInt("group", 1));
    cx.out(b == null ? cx.add(Op.CONV_TRANSPOSE, a, x, w) : cx.add(Op.CONV_TRANSPOSE, a, x, w, b));
  }

  /**
   * DepthToSpace (channels into blocks of the image, DCR or CRD order) and SpaceToDepth (the
   * inverse of DCR): a reshape to six axes, a transpose, a reshape.
   */
  private static void blocks(ImportContext cx, boolean toSpace) {
    Value x = cx.val(cx.need(0));
    if (x.type().rank() != 4) {
      throw new ImportException("ONNX operator " + cx.describe() + " needs [N, C, H, W]");
    }
    long b = cx.attrInt("blocksize", 0);
    List<Dim> d = x.type().dims();
    Dim n = d.get(0);
    Dim c = d.get(1);
    Dim h = d.get(2);
    Dim w = d.get(3);
    Dim bb = Dim.of(b);
    Dim b2 = Dim.of(b * b);
    if (b <= 0 || toSpace && c.isKnown() && c.value() % (b * b) != 0) {
      throw new ImportException(
          "ONNX operator " + cx.describe() + ": blocksize " + b + " does not fit");
    }
    List<Dim> six;
    long[] perm;
    List<Dim> out;
    if (toSpace) {
      boolean crd = cx.attrString("mode", "DCR").equals("CRD");
      Dim cOut = c.div(b2);
      six = crd ? List.of(n, cOut, bb, bb, h, w) : List.of(n, bb, bb, cOut, h, w);
      perm = crd ? new long[] {0, 1, 4, 2, 5, 3} : new long[] {0, 3, 4, 1, 5, 2};
      out = List.of(n, cOut, h.times(bb), w.times(bb));
    } else {
      six = List.of(n, c, h.div(bb), bb, w.div(bb), bb);
      perm = new long[] {0, 3, 5, 1, 2, 4};
      out = List.of(n, c.times(b2), h.div(bb), w.div(bb));
    }
    Value t = cx.add(Op.TRANSPOSE, Attrs.of("perm", perm), cx.reshape(x, six));
    cx.out(cx.reshape(t, out));
  }

  private static long[] orFilled(long[] v, int n, long dflt) {
    return v == null ? filled(n, dflt) : v;
  }

  private static void pool(ImportContext cx, boolean max) {
    if (max) {
      cx.onlyFirstOutput();
    }
    Value x = cx.val(cx.need(0));
    int rank = x.type().rank();
    if (rank < 3 || rank > 5) {
      throw cx.unsupportedHere(
          "pooling of a rank-" + rank + " tensor (only 1-D to 3-D pooling over [N, C, ...] is)");
    }
    int sp = rank - 2;
    long[] kernel = cx.attrInts("kernel_shape");
    if (kernel == null || kernel.length != sp) {
      throw new ImportException(
          "ONNX operator " + cx.describe() + " needs a " + sp + "-D kernel_shape");
    }
    long[] dil = cx.attrInts("dilations");
    if (dil != null && !allEqual(dil, 1)) {
      throw cx.unsupportedHere("dilations " + Arrays.toString(dil));
    }
    long[] strides = cx.attrInts("strides") == null ? filled(sp, 1) : cx.attrInts("strides");
    long[] pads = pads(cx, x.type(), kernel, strides, filled(sp, 1));
    boolean includePad = cx.attrInt("count_include_pad", 0) != 0;
    if (cx.attrInt("ceil_mode", 0) != 0) {
      pads = ceilPads(cx, x.type(), kernel, strides, pads, max || !includePad);
    }
    List<Dim> dims = x.type().dims();
    if (sp == 1) {
      // 1-D as 2-D over [N, C, 1, L]
      x = cx.reshape(x, List.of(dims.get(0), dims.get(1), Dim.of(1), dims.get(2)));
      Value y =
          pool2d(
              cx,
              x,
              new long[] {1, kernel[0]},
              new long[] {1, strides[0]},
              new long[] {0, pads[0], 0, pads[1]},
              max,
              includePad);
      List<Dim> d = y.type().dims();
      cx.out(cx.reshape(y, List.of(d.get(0), d.get(1), d.get(3))));
      return;
    }
    if (sp == 3) {
      // a box is separable: pooled over (H, W) with D among the channels, then over D
      Value hw =
          pool2d(
              cx,
              cx.reshape(
                  x,
                  List.of(dims.get(0), dims.get(1).times(dims.get(2)), dims.get(3), dims.get(4))),
              new long[] {kernel[1], kernel[2]},
              new long[] {strides[1], strides[2]},
              new long[] {pads[1], pads[2], pads[4], pads[5]},
              max,
              includePad);
      Dim h = hw.type().dim(2);
      Dim w = hw.type().dim(3);
      Value y =
          pool2d(
              cx,
              cx.reshape(hw, List.of(dims.get(0), dims.get(1), dims.get(2), h.times(w))),
              new long[] {kernel[0], 1},
              new long[] {strides[0], 1},
              new long[] {pads[0], 0, pads[3], 0},
              max,
              includePad);
      cx.out(cx.reshape(y, List.of(dims.get(0), dims.get(1), y.type().dim(2), h, w)));
      return;
    }
    cx.out(pool2d(cx, x, kernel, strides, pads, max, includePad));
  }

  /** One IR pooling over [N, C, H, W]. */
  private static Value pool2d(
      ImportContext cx,
      Value x,
      long[] kernel,
      long[] strides,
      long[] pads,
      boolean max,
      boolean includePad) {
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
    return cx.add(max ? Op.MAX_POOL2D : Op.AVG_POOL2D, a, x);
  }

  /**
   * The pads of a pooling in ceil_mode: the end pads grown so that flooring the output size gives
   * the ceiling. Exact where the extra cells are skipped like padding (max pooling, or averaging
   * that does not count pads); refused where ONNX Runtime would start a window in the end padding
   * (its rule for that case is not the specification's) or the grown pad reaches the kernel.
   */
  private static long[] ceilPads(
      ImportContext cx,
      TensorType x,
      long[] kernel,
      long[] strides,
      long[] pads,
      boolean padsSkipped) {
    int sp = kernel.length;
    long[] out = pads.clone();
    for (int i = 0; i < sp; i++) {
      Dim d = x.dim(2 + i);
      if (!d.isKnown()) {
        throw cx.unsupportedHere("ceil_mode = 1 on an axis of size " + d);
      }
      long span = d.value() + pads[i] + pads[sp + i] - kernel[i];
      if (span < 0) {
        return pads; // the kernel is larger than the padded input: inference reports it
      }
      long floor = span / strides[i];
      long ceil = (span + strides[i] - 1) / strides[i];
      if (ceil == floor) {
        continue;
      }
      if (!padsSkipped) {
        throw cx.unsupportedHere("ceil_mode = 1 with count_include_pad = 1");
      }
      if (ceil * strides[i] >= d.value() + pads[i]) {
        throw cx.unsupportedHere("ceil_mode = 1 where a window starts in the end padding");
      }
      out[sp + i] += ceil * strides[i] - span;
      if (out[sp + i] >= kernel[i]) {
        throw cx.unsupportedHere("ceil_mode = 1 with an end pad as large as the kernel");
      }
    }
    return out;
  }
}
