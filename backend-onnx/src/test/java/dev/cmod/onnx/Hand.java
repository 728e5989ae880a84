package dev.cmod.onnx;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;

/**
 * Plain-Java loops over flat arrays that compute what each IR operator means, for the expected
 * values of {@link OpLoweringTest}: written from the operators' definitions, independent of the IR
 * interpreter ({@code dev.cmod.ir.interp}) and of the ONNX lowering. Float results are computed in
 * double and rounded once.
 */
final class Hand {
  private Hand() {}

  // ---------------------------------------------------------------------------------------------
  // indexing

  static int numel(long[] shape) {
    return Math.toIntExact(Tensor.numel(shape));
  }

  /** Row-major coordinates of flat index {@code i} in {@code shape}. */
  static int[] coords(int i, long[] shape) {
    int[] c = new int[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      c[d] = (int) (i % shape[d]);
      i /= (int) shape[d];
    }
    return c;
  }

  /**
   * The flat index in {@code shape} of the output coordinates {@code out} (right-aligned; size-1
   * dims broadcast).
   */
  static int at(int[] out, long[] shape) {
    int idx = 0;
    int off = out.length - shape.length;
    for (int d = 0; d < shape.length; d++) {
      int c = shape[d] == 1 ? 0 : out[off + d];
      idx = idx * (int) shape[d] + c;
    }
    return idx;
  }

  static long[] broadcast(long[]... shapes) {
    int r = Arrays.stream(shapes).mapToInt(s -> s.length).max().orElse(0);
    long[] out = new long[r];
    Arrays.fill(out, 1);
    for (long[] s : shapes) {
      for (int d = 0; d < s.length; d++) {
        long v = s[d];
        int o = r - s.length + d;
        out[o] = out[o] == 1 ? v : out[o];
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // elementwise

  static Tensor unary(Tensor x, DoubleUnaryOperator f) {
    float[] y = new float[x.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = (float) f.applyAsDouble(x.get(i));
    }
    return Tensor.ofFloats(x.dtype(), x.shape(), y);
  }

  static Tensor unaryLong(Tensor x, java.util.function.LongUnaryOperator f) {
    long[] y = new long[x.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = f.applyAsLong(x.longs()[i]);
    }
    return Tensor.ofLongs(x.dtype(), x.shape(), y);
  }

  static Tensor binary(Tensor a, Tensor b, DoubleBinaryOperator f) {
    long[] s = broadcast(a.shape(), b.shape());
    float[] y = new float[numel(s)];
    for (int i = 0; i < y.length; i++) {
      int[] c = coords(i, s);
      y[i] = (float) f.applyAsDouble(a.get(at(c, a.shape())), b.get(at(c, b.shape())));
    }
    return Tensor.ofFloats(a.dtype(), s, y);
  }

  static Tensor binaryLong(Tensor a, Tensor b, LongBinaryOperator f) {
    long[] s = broadcast(a.shape(), b.shape());
    long[] y = new long[numel(s)];
    for (int i = 0; i < y.length; i++) {
      int[] c = coords(i, s);
      y[i] = f.applyAsLong(a.longs()[at(c, a.shape())], b.longs()[at(c, b.shape())]);
    }
    return Tensor.ofLongs(a.dtype(), s, y);
  }

  interface Cmp {
    boolean test(double a, double b);
  }

  static Tensor compare(Tensor a, Tensor b, Cmp f) {
    long[] s = broadcast(a.shape(), b.shape());
    long[] y = new long[numel(s)];
    for (int i = 0; i < y.length; i++) {
      int[] c = coords(i, s);
      y[i] = f.test(a.get(at(c, a.shape())), b.get(at(c, b.shape()))) ? 1 : 0;
    }
    return Tensor.ofLongs(DType.BOOL, s, y);
  }

  static Tensor where(Tensor cond, Tensor a, Tensor b) {
    long[] s = broadcast(cond.shape(), a.shape(), b.shape());
    int n = numel(s);
    float[] f = a.isFloat() ? new float[n] : null;
    long[] l = a.isFloat() ? null : new long[n];
    for (int i = 0; i < n; i++) {
      int[] c = coords(i, s);
      Tensor pick = cond.longs()[at(c, cond.shape())] != 0 ? a : b;
      int j = at(c, pick.shape());
      if (f != null) {
        f[i] = pick.floats()[j];
      } else {
        l[i] = pick.longs()[j];
      }
    }
    return f != null ? Tensor.ofFloats(a.dtype(), s, f) : Tensor.ofLongs(a.dtype(), s, l);
  }

  /** erf by its Maclaurin series (|x| &lt;= 3 here), summed in double. */
  static double erf(double x) {
    double sum = 0;
    double term = x; // x^(2n+1) (-1)^n / n!
    for (int n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  static double gelu(double x) {
    return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
  }

  static double geluTanh(double x) {
    return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  // ---------------------------------------------------------------------------------------------
  // layout

  static Tensor transpose(Tensor x, int... perm) {
    long[] s = new long[perm.length];
    for (int d = 0; d < perm.length; d++) {
      s[d] = x.dim(perm[d]);
    }
    int n = numel(s);
    float[] f = x.isFloat() ? new float[n] : null;
    long[] l = x.isFloat() ? null : new long[n];
    for (int i = 0; i < n; i++) {
      int[] c = coords(i, s);
      int[] src = new int[perm.length];
      for (int d = 0; d < perm.length; d++) {
        src[perm[d]] = c[d];
      }
      int j = at(src, x.shape());
      if (f != null) {
        f[i] = x.floats()[j];
      } else {
        l[i] = x.longs()[j];
      }
    }
    return f != null ? Tensor.ofFloats(x.dtype(), s, f) : Tensor.ofLongs(x.dtype(), s, l);
  }

  static Tensor concat(int axis, Tensor... parts) {
    long[] s = parts[0].shape();
    long total = 0;
    for (Tensor p : parts) {
      total += p.dim(axis);
    }
    s[axis] = total;
    int n = numel(s);
    boolean fl = parts[0].isFloat();
    float[] f = fl ? new float[n] : null;
    long[] l = fl ? null : new long[n];
    for (int i = 0; i < n; i++) {
      int[] c = coords(i, s);
      int k = 0;
      while (c[axis] >= parts[k].dim(axis)) {
        c[axis] -= (int) parts[k].dim(axis);
        k++;
      }
      int j = at(c, parts[k].shape());
      if (fl) {
        f[i] = parts[k].floats()[j];
      } else {
        l[i] = parts[k].longs()[j];
      }
    }
    return fl ? Tensor.ofFloats(parts[0].dtype(), s, f) : Tensor.ofLongs(parts[0].dtype(), s, l);
  }

  // ---------------------------------------------------------------------------------------------
  // reductions over one axis

  enum Reduce {
    SUM,
    MEAN,
    MAX,
    MIN,
    ARGMAX
  }

  static long[] reducedShape(long[] s, int axis, boolean keep) {
    long[] out = keep ? s.clone() : new long[s.length - 1];
    if (keep) {
      out[axis] = 1;
    } else {
      for (int d = 0, o = 0; d < s.length; d++) {
        if (d != axis) {
          out[o++] = s[d];
        }
      }
    }
    return out;
  }

  static Tensor reduce(Tensor x, int axis, boolean keep, Reduce how) {
    long[] s = x.shape();
    long[] kept = s.clone();
    kept[axis] = 1;
    int n = numel(kept);
    int len = (int) s[axis];
    double[] acc = new double[n];
    long[] arg = new long[n];
    for (int i = 0; i < n; i++) {
      int[] c = coords(i, kept);
      double best =
          how == Reduce.MAX || how == Reduce.ARGMAX
              ? Double.NEGATIVE_INFINITY
              : how == Reduce.MIN ? Double.POSITIVE_INFINITY : 0;
      for (int k = 0; k < len; k++) {
        c[axis] = k;
        double v = x.get(at(c, s));
        switch (how) {
          case SUM, MEAN -> best += v;
          case MAX -> best = Math.max(best, v);
          case MIN -> best = Math.min(best, v);
          case ARGMAX -> {
            if (v > best) { // the first of equal maxima
              best = v;
              arg[i] = k;
            }
          }
        }
      }
      acc[i] = how == Reduce.MEAN ? best / len : best;
    }
    long[] out = reducedShape(s, axis, keep);
    if (how == Reduce.ARGMAX) {
      return Tensor.ofLongs(out, arg);
    }
    if (!x.isFloat()) {
      long[] l = new long[n];
      for (int i = 0; i < n; i++) {
        l[i] = (long) acc[i];
      }
      return Tensor.ofLongs(x.dtype(), out, l);
    }
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) acc[i];
    }
    return Tensor.ofFloats(x.dtype(), out, f);
  }

  /** softmax (or log-softmax) along {@code axis}. */
  static Tensor softmax(Tensor x, int axis, boolean log) {
    long[] s = x.shape();
    long[] kept = s.clone();
    kept[axis] = 1;
    float[] y = new float[x.size()];
    for (int i = 0; i < numel(kept); i++) {
      int[] c = coords(i, kept);
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < s[axis]; k++) {
        c[axis] = k;
        max = Math.max(max, x.get(at(c, s)));
      }
      double sum = 0;
      for (int k = 0; k < s[axis]; k++) {
        c[axis] = k;
        sum += Math.exp(x.get(at(c, s)) - max);
      }
      for (int k = 0; k < s[axis]; k++) {
        c[axis] = k;
        int j = at(c, s);
        double z = x.get(j) - max;
        y[j] = (float) (log ? z - Math.log(sum) : Math.exp(z) / sum);
      }
    }
    return Tensor.ofFloats(s, y);
  }

  /**
   * Layer norm over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta (biased variance).
   */
  static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
    int d = (int) x.dim(x.rank() - 1);
    float[] y = new float[x.size()];
    for (int r = 0; r < x.size() / d; r++) {
      double mean = 0;
      for (int c = 0; c < d; c++) {
        mean += x.get(r * d + c);
      }
      mean /= d;
      double var = 0;
      for (int c = 0; c < d; c++) {
        double t = x.get(r * d + c) - mean;
        var += t * t;
      }
      var /= d;
      for (int c = 0; c < d; c++) {
        double v = (x.get(r * d + c) - mean) / Math.sqrt(var + eps) * gamma.get(c);
        y[r * d + c] = (float) (beta == null ? v : v + beta.get(c));
      }
    }
    return Tensor.ofFloats(x.shape(), y);
  }

  /** RMS norm over the last axis: x / sqrt(mean(x^2) + eps) * gamma. */
  static Tensor rmsNorm(Tensor x, Tensor gamma, double eps) {
    int d = (int) x.dim(x.rank() - 1);
    float[] y = new float[x.size()];
    for (int r = 0; r < x.size() / d; r++) {
      double ms = 0;
      for (int c = 0; c < d; c++) {
        ms += x.get(r * d + c) * x.get(r * d + c);
      }
      double rms = Math.sqrt(ms / d + eps);
      for (int c = 0; c < d; c++) {
        y[r * d + c] = (float) (x.get(r * d + c) / rms * gamma.get(c));
      }
    }
    return Tensor.ofFloats(x.shape(), y);
  }

  // ---------------------------------------------------------------------------------------------
  // linear algebra and windows

  /**
   * matmul with numpy's rules: a vector operand is promoted and its axis dropped; batch dims
   * broadcast.
   */
  static Tensor matmul(Tensor a, Tensor b) {
    boolean av = a.rank() == 1;
    boolean bv = b.rank() == 1;
    long[] as = av ? new long[] {1, a.dim(0)} : a.shape();
    long[] bs = bv ? new long[] {b.dim(0), 1} : b.shape();
    int m = (int) as[as.length - 2];
    int k = (int) as[as.length - 1];
    int n = (int) bs[bs.length - 1];
    long[] batch = broadcast(Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2));
    long[] ab = Arrays.copyOf(as, as.length - 2);
    long[] bb = Arrays.copyOf(bs, bs.length - 2);
    int nb = numel(batch);
    float[] y = new float[nb * m * n];
    for (int t = 0; t < nb; t++) {
      int[] c = coords(t, batch);
      int ao = at(c, ab) * m * k;
      int bo = at(c, bb) * k * n;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int q = 0; q < k; q++) {
            s += a.get(ao + i * k + q) * b.get(bo + q * n + j);
          }
          y[(t * m + i) * n + j] = (float) s;
        }
      }
    }
    long[] out = Arrays.copyOf(batch, batch.length + 2);
    out[batch.length] = m;
    out[batch.length + 1] = n;
    if (av || bv) {
      long[] o = new long[out.length - 1];
      int w = 0;
      for (int d = 0; d < out.length; d++) {
        if (!(av && d == batch.length) && !(bv && d == batch.length + 1)) {
          o[w++] = out[d];
        }
      }
      out = Arrays.copyOf(o, w);
    }
    return Tensor.ofFloats(a.dtype(), out, y);
  }

  /**
   * Cross-correlation over the trailing {@code spatial} axes: x [B, C, ...], w [O, C, k...], zero
   * padding.
   */
  static Tensor conv(Tensor x, Tensor w, Tensor bias, int stride, int pad, int spatial) {
    int bsz = (int) x.dim(0);
    int cin = (int) x.dim(1);
    int cout = (int) w.dim(0);
    long[] in = Arrays.copyOfRange(x.shape(), 2, 2 + spatial);
    long[] ker = Arrays.copyOfRange(w.shape(), 2, 2 + spatial);
    long[] outSp = new long[spatial];
    for (int d = 0; d < spatial; d++) {
      outSp[d] = (in[d] + 2L * pad - ker[d]) / stride + 1;
    }
    long[] os = new long[2 + spatial];
    os[0] = bsz;
    os[1] = cout;
    System.arraycopy(outSp, 0, os, 2, spatial);
    float[] y = new float[numel(os)];
    for (int i = 0; i < y.length; i++) {
      int[] c = coords(i, os);
      double s = bias == null ? 0 : bias.get(c[1]);
      for (int ci = 0; ci < cin; ci++) {
        for (int kk = 0; kk < numel(ker); kk++) {
          int[] kc = coords(kk, ker);
          int[] xc = new int[2 + spatial];
          xc[0] = c[0];
          xc[1] = ci;
          boolean inside = true;
          for (int d = 0; d < spatial; d++) {
            xc[2 + d] = c[2 + d] * stride - pad + kc[d];
            inside &= xc[2 + d] >= 0 && xc[2 + d] < in[d];
          }
          if (inside) {
            int[] wc = new int[2 + spatial];
            wc[0] = c[1];
            wc[1] = ci;
            System.arraycopy(kc, 0, wc, 2, spatial);
            s += x.get(at(xc, x.shape())) * w.get(at(wc, w.shape()));
          }
        }
      }
      y[i] = (float) s;
    }
    return Tensor.ofFloats(os, y);
  }

  /** 2-D pooling over [..., H, W] without padding. */
  static Tensor pool2d(Tensor x, int kernel, int stride, boolean max) {
    int r = x.rank();
    long h = x.dim(r - 2);
    long w = x.dim(r - 1);
    long oh = (h - kernel) / stride + 1;
    long ow = (w - kernel) / stride + 1;
    long[] os = x.shape();
    os[r - 2] = oh;
    os[r - 1] = ow;
    int planes = x.size() / (int) (h * w);
    float[] y = new float[numel(os)];
    for (int p = 0; p < planes; p++) {
      for (int i = 0; i < oh; i++) {
        for (int j = 0; j < ow; j++) {
          double acc = max ? Double.NEGATIVE_INFINITY : 0;
          for (int a = 0; a < kernel; a++) {
            for (int b = 0; b < kernel; b++) {
              double v = x.get((int) (p * h * w + (i * stride + a) * w + j * stride + b));
              acc = max ? Math.max(acc, v) : acc + v;
            }
          }
          y[(int) ((p * oh + i) * ow + j)] = (float) (max ? acc : acc / (kernel * kernel));
        }
      }
    }
    return Tensor.ofFloats(os, y);
  }

  /** Rows of {@code table} (axis 0) picked by {@code ids}: shape ids.shape ++ table.shape[1:]. */
  static Tensor take(Tensor table, Tensor ids) {
    int row = table.size() / (int) table.dim(0);
    long[] s = new long[ids.rank() + table.rank() - 1];
    System.arraycopy(ids.shape(), 0, s, 0, ids.rank());
    System.arraycopy(table.shape(), 1, s, ids.rank(), table.rank() - 1);
    int n = numel(s);
    float[] f = table.isFloat() ? new float[n] : null;
    long[] l = table.isFloat() ? null : new long[n];
    for (int i = 0; i < ids.size(); i++) {
      int id = (int) ids.longs()[i];
      for (int c = 0; c < row; c++) {
        if (f != null) {
          f[i * row + c] = table.floats()[id * row + c];
        } else {
          l[i * row + c] = table.longs()[id * row + c];
        }
      }
    }
    return f != null ? Tensor.ofFloats(table.dtype(), s, f) : Tensor.ofLongs(table.dtype(), s, l);
  }

  /** One-hot f32 rows of width {@code n}; an id outside [0, n) gives a row of zeros. */
  static Tensor oneHot(Tensor ids, int n) {
    long[] s = Arrays.copyOf(ids.shape(), ids.rank() + 1);
    s[ids.rank()] = n;
    float[] y = new float[numel(s)];
    for (int i = 0; i < ids.size(); i++) {
      long id = ids.longs()[i];
      if (id >= 0 && id < n) {
        y[i * n + (int) id] = 1;
      }
    }
    return Tensor.ofFloats(s, y);
  }

  /**
   * The {@code k} largest along {@code axis}, largest first (equal values: the lower index first);
   * {values, indices}.
   */
  static Tensor[] topk(Tensor x, int k, int axis) {
    long[] s = x.shape();
    long[] os = s.clone();
    os[axis] = k;
    long[] kept = s.clone();
    kept[axis] = 1;
    int n = numel(os);
    float[] fv = x.isFloat() ? new float[n] : null;
    long[] lv = x.isFloat() ? null : new long[n];
    long[] idx = new long[n];
    for (int i = 0; i < numel(kept); i++) {
      int[] c = coords(i, kept);
      int len = (int) s[axis];
      Integer[] order = new Integer[len];
      double[] v = new double[len];
      for (int j = 0; j < len; j++) {
        order[j] = j;
        c[axis] = j;
        v[j] = x.get(at(c, s));
      }
      Arrays.sort(
          order, (p, q) -> v[p] != v[q] ? Double.compare(v[q], v[p]) : Integer.compare(p, q));
      for (int j = 0; j < k; j++) {
        c[axis] = j;
        int o = at(c, os);
        idx[o] = order[j];
        c[axis] = order[j];
        if (fv != null) {
          fv[o] = x.floats()[at(c, s)];
        } else {
          lv[o] = x.longs()[at(c, s)];
        }
      }
    }
    Tensor values =
        fv != null ? Tensor.ofFloats(x.dtype(), os, fv) : Tensor.ofLongs(x.dtype(), os, lv);
    return new Tensor[] {values, Tensor.ofLongs(os, idx)};
  }

  /** Round to the nearest bfloat16 (ties to even), as a float. */
  static float bf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int lsb = (bits >>> 16) & 1;
    return Float.intBitsToFloat((bits + 0x7FFF + lsb) & 0xFFFF0000);
  }

  /** Round to the nearest IEEE half (ties to even), as a float, for values in the normal range. */
  static float f16(float f) {
    if (f == 0 || Math.abs(f) < 6.1035156e-5f) {
      throw new IllegalArgumentException("f16 by hand covers normal values only: " + f);
    }
    int e = Math.getExponent(f); // f = m * 2^e, 1 <= |m| < 2
    double ulp = Math.scalb(1.0, e - 10);
    return (float) (Math.rint(f / ulp) * ulp);
  }
}
