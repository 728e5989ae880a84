package dev.cmod.ir.graph;

import static dev.cmod.ir.op.WindowOps.COUNT_INCLUDE_PAD;
import static dev.cmod.ir.op.WindowOps.DILATIONS;
import static dev.cmod.ir.op.WindowOps.GROUPS;
import static dev.cmod.ir.op.WindowOps.KERNEL;
import static dev.cmod.ir.op.WindowOps.KERNELS;
import static dev.cmod.ir.op.WindowOps.PADDING;
import static dev.cmod.ir.op.WindowOps.PADS;
import static dev.cmod.ir.op.WindowOps.POOL_STRIDE;
import static dev.cmod.ir.op.WindowOps.STRIDE;
import static dev.cmod.ir.op.WindowOps.STRIDES;

import dev.cmod.ir.op.AttrSpec;
import java.util.Arrays;
import java.util.List;

/**
 * The sliding-window geometry of a convolution (CONV1D, CONV2D) or pooling (AVG_POOL2D, MAX_POOL2D)
 * node, per spatial axis. The plain attributes ({@code stride}, {@code padding}, {@code kernel})
 * give the same value on every axis; the optional array attributes override them:
 *
 * <ul>
 *   <li>{@code strides}: long[spatial]
 *   <li>{@code pads}: long[2 * spatial], the begin pads of every axis then the end pads (ONNX
 *       order)
 *   <li>{@code dilations}: long[spatial] (convolution only)
 *   <li>{@code kernels}: long[spatial] (pooling only; a convolution's kernel is its weight's shape)
 *   <li>{@code groups}: long (convolution only; the weight is [O, C / groups, k...])
 *   <li>{@code count_include_pad}: boolean (average pooling only; default false: padded cells do
 *       not count, as in ONNX)
 * </ul>
 *
 * Nodes without the array attributes keep their meaning (and their lowering) unchanged. The
 * attributes and their defaults are declared in {@link dev.cmod.ir.op.WindowOps}.
 */
public record WindowGeometry(
    long[] strides,
    long[] padBegin,
    long[] padEnd,
    long[] dilations,
    long[] kernels,
    long groups,
    boolean countIncludePad) {

  /**
   * Reads the geometry of a node with {@code spatial} spatial axes; {@code kernels} is null for
   * convolutions.
   */
  public static WindowGeometry of(Attrs a, int spatial, boolean pool) {
    long[] strides =
        a.has(STRIDES.name())
            ? STRIDES.get(a)
            : fill(spatial, (pool ? POOL_STRIDE : STRIDE).get(a));
    long[] pads = a.has(PADS.name()) ? PADS.get(a) : fill(2 * spatial, pool ? 0 : PADDING.get(a));
    long[] dil = a.has(DILATIONS.name()) ? DILATIONS.get(a) : fill(spatial, 1);
    long[] kernels =
        !pool ? null : a.has(KERNELS.name()) ? KERNELS.get(a) : fill(spatial, KERNEL.get(a));
    long groups = GROUPS.get(a);
    if (strides.length != spatial
        || pads.length != 2 * spatial
        || dil.length != spatial
        || (kernels != null && kernels.length != spatial)) {
      throw new ShapeException(
          "window attributes have the wrong length for "
              + spatial
              + " spatial axes: strides "
              + Arrays.toString(strides)
              + ", pads "
              + Arrays.toString(pads)
              + ", dilations "
              + Arrays.toString(dil)
              + (kernels != null ? ", kernels " + Arrays.toString(kernels) : ""));
    }
    for (int i = 0; i < spatial; i++) {
      if (strides[i] <= 0
          || dil[i] <= 0
          || pads[i] < 0
          || pads[spatial + i] < 0
          || (kernels != null && kernels[i] <= 0)) {
        throw new ShapeException(
            "window attributes must be positive (pads non-negative): strides "
                + Arrays.toString(strides)
                + ", pads "
                + Arrays.toString(pads)
                + ", dilations "
                + Arrays.toString(dil)
                + (kernels != null ? ", kernels " + Arrays.toString(kernels) : ""));
      }
    }
    if (groups <= 0) {
      throw new ShapeException("groups must be positive, got " + groups);
    }
    return new WindowGeometry(
        strides,
        Arrays.copyOfRange(pads, 0, spatial),
        Arrays.copyOfRange(pads, spatial, 2 * spatial),
        dil,
        kernels,
        groups,
        COUNT_INCLUDE_PAD.get(a));
  }

  /** True when the node uses only the plain, same-on-every-axis attributes' meaning. */
  public static boolean isPlain(Attrs a) {
    for (AttrSpec<?> s : List.of(STRIDES, PADS, DILATIONS, KERNELS, GROUPS, COUNT_INCLUDE_PAD)) {
      if (a.has(s.name())) {
        return false;
      }
    }
    return true;
  }

  public int spatial() {
    return strides.length;
  }

  /** All pads, begins then ends (ONNX order). */
  public long[] pads() {
    long[] p = Arrays.copyOf(padBegin, 2 * padBegin.length);
    System.arraycopy(padEnd, 0, p, padBegin.length, padEnd.length);
    return p;
  }

  private static long[] fill(int n, long v) {
    long[] out = new long[n];
    Arrays.fill(out, v);
    return out;
  }
}
