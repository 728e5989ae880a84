package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.Buffers.err;
import static dev.cmod.ir.interp.Buffers.floats;
import static dev.cmod.ir.interp.Buffers.longs;
import static dev.cmod.ir.interp.Buffers.one;
import static dev.cmod.ir.interp.Buffers.prod;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.ReductionOps;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Kernels of the reductions over one axis: sum, mean, max, min, product and argmax; cumsum. */
final class ReductionKernels {
  private ReductionKernels() {}

  static void register(Map<Op, Kernel> t) {
    for (Op op :
        List.of(Op.REDUCE_SUM, Op.REDUCE_MEAN, Op.REDUCE_MAX, Op.REDUCE_MIN, Op.REDUCE_PROD)) {
      t.put(
          op,
          (n, x, s) ->
              one(
                  reduce(
                      op,
                      x[0],
                      ReductionOps.AXIS.axis(n.attrs(), x[0].rank()),
                      ReductionOps.KEEP.get(n.attrs()),
                      false)));
    }
    t.put(
        Op.ARGMAX,
        (n, x, s) ->
            one(
                reduce(
                    Op.ARGMAX,
                    x[0],
                    ReductionOps.AXIS.axis(n.attrs(), x[0].rank()),
                    ReductionOps.KEEP.get(n.attrs()),
                    ReductionOps.LAST.get(n.attrs()))));
    t.put(
        Op.CUMSUM,
        (n, x, s) ->
            one(
                cumsum(
                    x[0],
                    ReductionOps.AXIS.axis(n.attrs(), x[0].rank()),
                    ReductionOps.EXCLUSIVE.get(n.attrs()),
                    ReductionOps.REVERSE.get(n.attrs()))));
  }

  // ---------------------------------------------------------------- reductions

  /** {@code last}: argmax takes the last of tied maxima (the others ignore it). */
  static Tensor reduce(Op op, Tensor x, int axis, boolean keep, boolean last) {
    long[] s = x.shape();
    int outer = prod(s, 0, axis);
    int len = (int) s[axis];
    int inner = prod(s, axis + 1, s.length);
    long[] os;
    if (keep) {
      os = s.clone();
      os[axis] = 1;
    } else {
      os = new long[s.length - 1];
      for (int i = 0, j = 0; i < s.length; i++) {
        if (i != axis) {
          os[j++] = s[i];
        }
      }
    }
    int n = outer * inner;
    if (len == 0 && n > 0 && op != Op.REDUCE_SUM && op != Op.REDUCE_MEAN && op != Op.REDUCE_PROD) {
      throw err(op.text() + ": axis " + axis + " of " + Arrays.toString(s) + " is empty");
    }
    if (op == Op.ARGMAX) {
      long[] r = new long[n];
      for (int o = 0; o < outer; o++) {
        for (int i = 0; i < inner; i++) {
          int base = o * len * inner + i;
          int best = 0;
          double bv = x.get(base);
          for (int k = 1; k < len; k++) {
            double v = x.get(base + k * inner);
            if (v > bv || (last && v == bv) || (Double.isNaN(v) && !Double.isNaN(bv))) {
              best = k;
              bv = v;
            }
          }
          r[o * inner + i] = best;
        }
      }
      return Tensor.ofLongs(DType.I64, os, r);
    }
    if (x.isFloat()) {
      float[] v = x.floats();
      float[] r = new float[n];
      for (int o = 0; o < outer; o++) {
        for (int i = 0; i < inner; i++) {
          int base = o * len * inner + i;
          double acc = start(op);
          for (int k = 0; k < len; k++) {
            double e = v[base + k * inner];
            acc =
                switch (op) {
                  case REDUCE_MAX -> Math.max(acc, e);
                  case REDUCE_MIN -> Math.min(acc, e);
                  case REDUCE_PROD -> acc * e;
                  default -> acc + e;
                };
          }
          r[o * inner + i] = (float) (op == Op.REDUCE_MEAN ? acc / len : acc);
        }
      }
      return floats(x.dtype(), os, r);
    }
    long[] v = x.longs();
    long[] r = new long[n];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int base = o * len * inner + i;
        long acc =
            op == Op.REDUCE_MAX
                ? Long.MIN_VALUE
                : op == Op.REDUCE_MIN ? Long.MAX_VALUE : op == Op.REDUCE_PROD ? 1 : 0;
        for (int k = 0; k < len; k++) {
          long e = v[base + k * inner];
          acc =
              switch (op) {
                case REDUCE_MAX -> Math.max(acc, e);
                case REDUCE_MIN -> Math.min(acc, e);
                case REDUCE_PROD -> acc * e;
                default -> acc + e;
              };
        }
        r[o * inner + i] = acc;
      }
    }
    return longs(x.dtype(), os, r);
  }

  private static double start(Op op) {
    return switch (op) {
      case REDUCE_MAX -> Double.NEGATIVE_INFINITY;
      case REDUCE_MIN -> Double.POSITIVE_INFINITY;
      case REDUCE_PROD -> 1.0;
      default -> 0.0;
    };
  }

  /** The running sum along {@code axis}, from its end when {@code reverse}. */
  static Tensor cumsum(Tensor x, int axis, boolean exclusive, boolean reverse) {
    long[] s = x.shape();
    int outer = prod(s, 0, axis);
    int len = (int) s[axis];
    int inner = prod(s, axis + 1, s.length);
    boolean f = x.isFloat();
    float[] fv = f ? x.floats() : null;
    long[] lv = f ? null : x.longs();
    float[] fr = f ? new float[fv.length] : null;
    long[] lr = f ? null : new long[lv.length];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int base = o * len * inner + i;
        double dacc = 0;
        long lacc = 0;
        for (int step = 0; step < len; step++) {
          int at = base + (reverse ? len - 1 - step : step) * inner;
          if (f) {
            fr[at] = (float) (exclusive ? dacc : dacc + fv[at]);
            dacc += fv[at];
          } else {
            lr[at] = exclusive ? lacc : lacc + lv[at];
            lacc += lv[at];
          }
        }
      }
    }
    return f ? floats(x.dtype(), s, fr) : longs(x.dtype(), s, lr);
  }
}
