package dev.cmod.ir.op;

import static dev.cmod.ir.op.Shapes.one;
import static dev.cmod.ir.op.Shapes.requireFloat;
import static dev.cmod.ir.op.Shapes.sameDtype;
import static dev.cmod.ir.op.Shapes.unify;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.graph.WindowGeometry;
import dev.cmod.ir.op.OpDef.Family;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sliding windows and spatial resampling over {@code [N, C, spatial...]}: 1-D and 2-D convolution,
 * average and max pooling, nearest upsampling, and patchify (non-overlapping patches flattened to
 * tokens). Convolution and pooling read their geometry through {@link WindowGeometry}: the plain
 * same-on-every-axis attributes, or the per-axis arrays an ONNX import sets.
 */
public final class WindowOps {
  /** A convolution's stride on every axis. */
  public static final AttrSpec<Long> STRIDE = AttrSpec.integer("stride", 1);

  /** A convolution's zero padding on both sides of every axis. */
  public static final AttrSpec<Long> PADDING = AttrSpec.integer("padding", 0);

  /** A pooling window's size on every axis. */
  public static final AttrSpec<Long> KERNEL = AttrSpec.integer("kernel");

  /** A pooling window's stride on every axis (the language defaults it to the kernel). */
  public static final AttrSpec<Long> POOL_STRIDE = AttrSpec.integer("stride");

  /** Per-axis strides, overriding {@code stride}. */
  public static final AttrSpec<long[]> STRIDES = AttrSpec.ints("strides").optional().internal();

  /** Per-axis pads, all begins then all ends (ONNX order), overriding {@code padding}. */
  public static final AttrSpec<long[]> PADS = AttrSpec.ints("pads").optional().internal();

  /** Per-axis dilations of a convolution (absent: 1 on every axis). */
  public static final AttrSpec<long[]> DILATIONS = AttrSpec.ints("dilations").optional().internal();

  /** Per-axis pooling window sizes, overriding {@code kernel}. */
  public static final AttrSpec<long[]> KERNELS = AttrSpec.ints("kernels").optional().internal();

  /** A convolution's channel groups (the weight is [O, C / groups, k...]). */
  public static final AttrSpec<Long> GROUPS = AttrSpec.integer("groups", 1).internal();

  /** Whether average pooling counts padded cells (ONNX's default: no). */
  public static final AttrSpec<Boolean> COUNT_INCLUDE_PAD =
      AttrSpec.bool("count_include_pad", false).internal();

  /** The cells a transposed convolution adds at the end of each axis (ONNX's output_padding). */
  public static final AttrSpec<long[]> OUTPUT_PADDING =
      AttrSpec.ints("output_padding").optional().internal();

  public static final AttrSpec<Long> FACTOR = AttrSpec.integer("factor");
  public static final AttrSpec<Long> PATCH = AttrSpec.integer("patch");

  private WindowOps() {}

  static List<OpDef> defs() {
    List<OpDef> defs = new ArrayList<>();
    for (Op op : List.of(Op.CONV1D, Op.CONV2D)) {
      defs.add(
          OpDef.of(op, Family.WINDOW)
              .operands("x", "w")
              .optional("b")
              .attrs(STRIDE, PADDING, STRIDES, PADS, DILATIONS, GROUPS)
              .flops(WindowOps::convFlops)
              .infer((a, in) -> one(conv(op, a, in))));
    }
    for (Op op : List.of(Op.AVG_POOL2D, Op.MAX_POOL2D)) {
      OpDef.Builder b =
          OpDef.of(op, Family.WINDOW)
              .operands("x")
              .attrs(KERNEL, POOL_STRIDE, KERNELS, STRIDES, PADS);
      if (op == Op.AVG_POOL2D) {
        b.attrs(COUNT_INCLUDE_PAD);
      }
      defs.add(b.infer((a, in) -> one(pool(op, a, in))));
    }
    defs.add(
        OpDef.of(Op.CONV_TRANSPOSE, Family.WINDOW)
            .operands("x", "w")
            .optional("b")
            .attrs(STRIDES, PADS, DILATIONS, GROUPS, OUTPUT_PADDING)
            .flops(WindowOps::convTransposeFlops)
            .infer((a, in) -> one(convTranspose(a, in))));
    defs.add(
        OpDef.of(Op.UPSAMPLE, Family.WINDOW)
            .operands("x")
            .attrs(FACTOR)
            .infer(
                (a, in) -> {
                  TensorType x = in.get(0);
                  if (x.rank() < 3) {
                    throw new ShapeException("upsample: needs [N, C, L] or [N, C, H, W], got " + x);
                  }
                  long f = FACTOR.get(a);
                  List<Dim> dims = new ArrayList<>(x.dims());
                  for (int i = 2; i < x.rank(); i++) {
                    dims.set(i, x.dim(i).times(Dim.of(f)));
                  }
                  return one(x.withDims(dims));
                }));
    defs.add(
        OpDef.of(Op.PATCHIFY, Family.WINDOW)
            .operands("x")
            .attrs(PATCH)
            .infer((a, in) -> one(patchify(a, in.get(0)))));
    return defs;
  }

  private static double convFlops(List<TensorType> in, TensorType out, DimSize s) {
    TensorType w = in.get(1);
    double k = 1;
    for (int i = 1; i < w.rank(); i++) {
      k *= Flops.axis(w, i, s);
    }
    return 2 * Flops.elems(out, s) * k;
  }

  /** 2 multiply-adds per input cell, output channel of its group and kernel cell. */
  private static double convTransposeFlops(List<TensorType> in, TensorType out, DimSize s) {
    TensorType w = in.get(1);
    double k = 1;
    for (int i = 1; i < w.rank(); i++) {
      k *= Flops.axis(w, i, s);
    }
    return 2 * Flops.elems(in.get(0), s) * k;
  }

  /**
   * A per-axis attribute of a transposed convolution over {@code sp} axes ({@code 2 sp} for pads),
   * {@code dflt} on every axis when absent.
   */
  public static long[] perAxis(AttrSpec<long[]> spec, Attrs a, int n, long dflt) {
    long[] v = a.has(spec.name()) ? spec.get(a) : null;
    if (v == null) {
      v = new long[n];
      Arrays.fill(v, dflt);
    }
    if (v.length != n) {
      throw new ShapeException(
          "conv_transpose: " + spec.name() + " " + Arrays.toString(v) + " needs " + n + " values");
    }
    return v;
  }

  private static TensorType convTranspose(Attrs a, List<TensorType> in) {
    TensorType x = in.get(0);
    TensorType w = in.get(1);
    requireFloat(Op.CONV_TRANSPOSE, x);
    sameDtype(Op.CONV_TRANSPOSE, x, w);
    int sp = x.rank() - 2;
    if (sp < 1 || w.rank() != x.rank()) {
      throw new ShapeException(
          "conv_transpose: needs x [N, C, spatial...] and w [C, O / groups, k...], got "
              + x
              + " and "
              + w);
    }
    long groups = GROUPS.get(a);
    long[] strides = perAxis(STRIDES, a, sp, 1);
    long[] pads = perAxis(PADS, a, 2 * sp, 0);
    long[] dil = perAxis(DILATIONS, a, sp, 1);
    long[] extra = perAxis(OUTPUT_PADDING, a, sp, 0);
    unify(Op.CONV_TRANSPOSE, x.dim(1), w.dim(0), 1);
    Dim o = w.dim(1).times(Dim.of(groups));
    if (in.size() == 3) {
      TensorType b = in.get(2);
      if (b.rank() != 1) {
        throw new ShapeException("conv_transpose: bias must be 1-D, got " + b);
      }
      unify(Op.CONV_TRANSPOSE, o, b.dim(0), 0);
    }
    List<Dim> dims = new ArrayList<>();
    dims.add(x.dim(0));
    dims.add(o);
    for (int i = 0; i < sp; i++) {
      Dim d =
          x.dim(2 + i)
              .minus(Dim.of(1))
              .times(Dim.of(strides[i]))
              .plus(Dim.of(dil[i]).times(w.dim(2 + i).minus(Dim.of(1))))
              .plus(Dim.of(1 + extra[i] - pads[i] - pads[sp + i]));
      if (d.isKnown() && d.value() <= 0) {
        throw new ShapeException(
            "conv_transpose: pads " + Arrays.toString(pads) + " leave no output");
      }
      dims.add(d);
    }
    return x.withDims(dims);
  }

  private static TensorType patchify(Attrs a, TensorType x) {
    if (x.rank() < 3) {
      throw new ShapeException("patchify: needs [..., C, H, W], got " + x);
    }
    long p = PATCH.get(a);
    int r = x.rank();
    Dim c = x.dim(r - 3);
    Dim h = x.dim(r - 2);
    Dim w = x.dim(r - 1);
    for (Dim d : List.of(h, w)) {
      if (d.isKnown() && d.value() % p != 0) {
        throw new ShapeException(
            "patchify: image size " + h + "x" + w + " is not a multiple of the patch size " + p);
      }
    }
    List<Dim> dims = new ArrayList<>(x.dims().subList(0, r - 3));
    dims.add(h.div(Dim.of(p)).times(w.div(Dim.of(p))));
    dims.add(c.times(Dim.of(p * p)));
    return x.withDims(dims);
  }

  private static TensorType pool(Op op, Attrs a, List<TensorType> in) {
    TensorType x = in.get(0);
    requireFloat(op, x);
    if (x.rank() != 4) {
      throw new ShapeException(op.text() + ": needs [N, C, H, W], got " + x);
    }
    List<Dim> dims = new ArrayList<>(x.dims());
    if (WindowGeometry.isPlain(a)) {
      long k = KERNEL.get(a);
      long s = POOL_STRIDE.get(a);
      for (int i = 2; i < 4; i++) {
        dims.set(i, x.dim(i).minus(Dim.of(k)).div(Dim.of(s)).plus(Dim.of(1)));
      }
      return x.withDims(dims);
    }
    WindowGeometry wg = WindowGeometry.of(a, 2, true);
    for (int i = 0; i < 2; i++) {
      if (wg.padBegin()[i] >= wg.kernels()[i] || wg.padEnd()[i] >= wg.kernels()[i]) {
        throw new ShapeException(
            op.text()
                + ": pads "
                + Arrays.toString(wg.pads())
                + " must be smaller than the kernel "
                + Arrays.toString(wg.kernels()));
      }
      Dim d =
          x.dim(2 + i)
              .plus(Dim.of(wg.padBegin()[i] + wg.padEnd()[i] - wg.kernels()[i]))
              .div(Dim.of(wg.strides()[i]))
              .plus(Dim.of(1));
      if (d.isKnown() && d.value() <= 0) {
        throw new ShapeException(
            op.text()
                + ": kernel "
                + wg.kernels()[i]
                + " is larger than the padded input "
                + x.dim(2 + i));
      }
      dims.set(2 + i, d);
    }
    return x.withDims(dims);
  }

  private static TensorType conv(Op op, Attrs a, List<TensorType> in) {
    int spatial = op == Op.CONV1D ? 1 : 2;
    TensorType x = in.get(0);
    TensorType w = in.get(1);
    requireFloat(op, x);
    sameDtype(op, x, w);
    if (x.rank() != 2 + spatial || w.rank() != 2 + spatial) {
      throw new ShapeException(
          op.text()
              + ": needs x of rank "
              + (2 + spatial)
              + " and w of rank "
              + (2 + spatial)
              + ", got "
              + x
              + " and "
              + w);
    }
    if (!WindowGeometry.isPlain(a)) {
      return convGeneral(op, a, in, spatial);
    }
    unify(op, x.dim(1), w.dim(1), 1);
    checkBias(op, in);
    long s = STRIDE.get(a);
    long p = PADDING.get(a);
    List<Dim> dims = new ArrayList<>();
    dims.add(x.dim(0));
    dims.add(w.dim(0));
    for (int i = 0; i < spatial; i++) {
      Dim d = x.dim(2 + i).plus(Dim.of(2 * p)).minus(w.dim(2 + i)).div(Dim.of(s)).plus(Dim.of(1));
      if (d.isKnown() && d.value() <= 0) {
        throw new ShapeException(
            op.text()
                + ": kernel "
                + w.dim(2 + i)
                + " is larger than the padded input "
                + x.dim(2 + i));
      }
      dims.add(d);
    }
    return x.withDims(dims);
  }

  private static void checkBias(Op op, List<TensorType> in) {
    if (in.size() == 3) {
      TensorType b = in.get(2);
      if (b.rank() != 1) {
        throw new ShapeException(op.text() + ": bias must be 1-D, got " + b);
      }
      unify(op, in.get(1).dim(0), b.dim(0), 0);
    }
  }

  /**
   * Convolution with per-axis strides, pads and dilations, and channel groups (see {@link
   * WindowGeometry}).
   */
  private static TensorType convGeneral(Op op, Attrs a, List<TensorType> in, int spatial) {
    TensorType x = in.get(0);
    TensorType w = in.get(1);
    WindowGeometry wg = WindowGeometry.of(a, spatial, false);
    long groups = wg.groups();
    unify(op, x.dim(1), w.dim(1).times(Dim.of(groups)), 1);
    Dim o = w.dim(0);
    if (o.isKnown() && o.value() % groups != 0) {
      throw new ShapeException(
          op.text() + ": " + o + " output channels do not split into " + groups + " groups");
    }
    checkBias(op, in);
    List<Dim> dims = new ArrayList<>();
    dims.add(x.dim(0));
    dims.add(w.dim(0));
    for (int i = 0; i < spatial; i++) {
      Dim span = Dim.of(wg.dilations()[i]).times(w.dim(2 + i).minus(Dim.of(1))).plus(Dim.of(1));
      Dim d =
          x.dim(2 + i)
              .plus(Dim.of(wg.padBegin()[i] + wg.padEnd()[i]))
              .minus(span)
              .div(Dim.of(wg.strides()[i]))
              .plus(Dim.of(1));
      if (d.isKnown() && d.value() <= 0) {
        throw new ShapeException(
            op.text()
                + ": kernel "
                + w.dim(2 + i)
                + " (dilation "
                + wg.dilations()[i]
                + ") is larger than the padded input "
                + x.dim(2 + i));
      }
      dims.add(d);
    }
    return x.withDims(dims);
  }
}
