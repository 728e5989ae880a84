package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.Buffers.err;
import static dev.cmod.ir.interp.Buffers.floats;
import static dev.cmod.ir.interp.Buffers.gather;
import static dev.cmod.ir.interp.Buffers.numel;
import static dev.cmod.ir.interp.Buffers.one;
import static dev.cmod.ir.interp.Buffers.prod;
import static dev.cmod.ir.interp.Buffers.strides;
import static dev.cmod.ir.op.WindowOps.FACTOR;
import static dev.cmod.ir.op.WindowOps.KERNEL;
import static dev.cmod.ir.op.WindowOps.PADDING;
import static dev.cmod.ir.op.WindowOps.PATCH;
import static dev.cmod.ir.op.WindowOps.POOL_STRIDE;
import static dev.cmod.ir.op.WindowOps.STRIDE;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.WindowGeometry;
import dev.cmod.ir.op.WindowOps;
import dev.cmod.ir.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Kernels of the window family: convolution, transposed convolution, pooling, upsampling and
 * patchify.
 */
final class WindowKernels {
  private WindowKernels() {}

  static void register(Map<Op, Kernel> t) {
    for (Op op : List.of(Op.CONV1D, Op.CONV2D)) {
      t.put(op, (n, x, s) -> one(convNode(op, n.attrs(), x)));
    }
    for (Op op : List.of(Op.AVG_POOL2D, Op.MAX_POOL2D)) {
      boolean max = op == Op.MAX_POOL2D;
      t.put(
          op,
          (n, x, s) -> {
            Attrs a = n.attrs();
            return one(
                WindowGeometry.isPlain(a)
                    ? pool(x[0], KERNEL.getInt(a), POOL_STRIDE.getInt(a), max)
                    : poolGeneral(x[0], WindowGeometry.of(a, 2, true), max));
          });
    }
    t.put(Op.CONV_TRANSPOSE, (n, x, s) -> one(convTranspose(x, n.attrs())));
    t.put(Op.UPSAMPLE, (n, x, s) -> one(upsample(x[0], FACTOR.getInt(n.attrs()))));
    t.put(Op.PATCHIFY, (n, x, s) -> one(patchify(x[0], PATCH.getInt(n.attrs()))));
  }

  private static Tensor convNode(Op op, Attrs a, Tensor[] x) {
    Tensor bias = x.length > 2 ? x[2] : null;
    return WindowGeometry.isPlain(a)
        ? conv(x[0], x[1], bias, STRIDE.getInt(a), PADDING.getInt(a), op == Op.CONV1D)
        : convGeneral(x[0], x[1], bias, WindowGeometry.of(a, op == Op.CONV1D ? 1 : 2, false));
  }

  /**
   * The transposed convolution: every input cell, times the kernel of each output channel of its
   * group, added into the output window it spreads to (accumulated in double precision).
   */
  static Tensor convTranspose(Tensor[] in, Attrs a) {
    Tensor x = in[0];
    Tensor w = in[1];
    long[] xs = x.shape();
    long[] ws = w.shape();
    int sp = xs.length - 2;
    int groups = (int) WindowOps.GROUPS.get(a).longValue();
    long[] strides = WindowOps.perAxis(WindowOps.STRIDES, a, sp, 1);
    long[] pads = WindowOps.perAxis(WindowOps.PADS, a, 2 * sp, 0);
    long[] dil = WindowOps.perAxis(WindowOps.DILATIONS, a, sp, 1);
    long[] extra = WindowOps.perAxis(WindowOps.OUTPUT_PADDING, a, sp, 0);
    int cin = (int) xs[1];
    int og = (int) ws[1];
    int cg = cin / groups;
    long[] os = new long[xs.length];
    os[0] = xs[0];
    os[1] = (long) og * groups;
    for (int i = 0; i < sp; i++) {
      os[2 + i] = (xs[2 + i] - 1) * strides[i] + dil[i] * (ws[2 + i] - 1) + 1 + extra[i];
      os[2 + i] -= pads[i] + pads[sp + i];
      if (os[2 + i] <= 0) {
        throw err("conv_transpose: the pads leave no output for " + Arrays.toString(xs));
      }
    }
    long[] inSp = Arrays.copyOfRange(xs, 2, xs.length);
    long[] kSp = Arrays.copyOfRange(ws, 2, ws.length);
    long[] outSp = Arrays.copyOfRange(os, 2, os.length);
    int inCells = numel(inSp);
    int kCells = numel(kSp);
    int outCells = numel(outSp);
    // for each input cell and kernel cell, the output cell it adds to (-1: outside)
    int[] target = new int[inCells * kCells];
    int[] ic = new int[sp];
    int[] kc = new int[sp];
    for (int i = 0; i < inCells; i++) {
      unflat(i, inSp, ic);
      for (int k = 0; k < kCells; k++) {
        unflat(k, kSp, kc);
        int t = 0;
        for (int d = 0; d < sp; d++) {
          long p = ic[d] * strides[d] - pads[d] + kc[d] * dil[d];
          if (p < 0 || p >= outSp[d]) {
            t = -1;
            break;
          }
          t = t * (int) outSp[d] + (int) p;
        }
        target[i * kCells + k] = t;
      }
    }
    float[] xv = x.floats();
    float[] wv = w.floats();
    double[] acc = new double[numel(os)];
    for (int nb = 0; nb < xs[0]; nb++) {
      for (int c = 0; c < cin; c++) {
        int g = c / cg;
        for (int o = 0; o < og; o++) {
          int outBase = (nb * (int) os[1] + g * og + o) * outCells;
          int wBase = (c * og + o) * kCells;
          for (int i = 0; i < inCells; i++) {
            double v = xv[(nb * cin + c) * inCells + i];
            for (int k = 0; k < kCells; k++) {
              int t = target[i * kCells + k];
              if (t >= 0) {
                acc[outBase + t] += v * wv[wBase + k];
              }
            }
          }
        }
      }
    }
    float[] out = new float[acc.length];
    float[] bias = in.length > 2 ? in[2].floats() : null;
    for (int p = 0; p < out.length; p++) {
      int ch = (p / outCells) % (int) os[1];
      out[p] = (float) (acc[p] + (bias == null ? 0 : bias[ch]));
    }
    return floats(x.dtype(), os, out);
  }

  /** The coordinates of flat index {@code f} in {@code shape} (row-major), into {@code c}. */
  private static void unflat(int f, long[] shape, int[] c) {
    for (int d = shape.length - 1; d >= 0; d--) {
      c[d] = (int) (f % shape[d]);
      f /= (int) shape[d];
    }
  }

  /** Cross-correlation; 1-D convolution runs as 2-D with a height of 1 and no vertical padding. */
  static Tensor conv(Tensor x, Tensor w, Tensor bias, int stride, int padding, boolean oneD) {
    long[] xs = x.shape();
    long[] ws = w.shape();
    int nb = (int) xs[0];
    int c = (int) xs[1];
    int h = oneD ? 1 : (int) xs[2];
    int wd = (int) xs[oneD ? 2 : 3];
    int o = (int) ws[0];
    int kh = oneD ? 1 : (int) ws[2];
    int kw = (int) ws[oneD ? 2 : 3];
    int ph = oneD ? 0 : padding;
    int sh = oneD ? 1 : stride;
    String op = oneD ? "conv1d" : "conv2d";
    if (ws[1] != c) {
      throw err(op + ": input has " + c + " channels but the weight expects " + ws[1]);
    }
    if (bias != null && bias.size() != o) {
      throw err(op + ": bias has " + bias.size() + " elements for " + o + " output channels");
    }
    if (stride <= 0 || padding < 0) {
      throw err(op + ": stride must be positive and padding non-negative");
    }
    int oh = Math.floorDiv(h + 2 * ph - kh, sh) + 1;
    int ow = Math.floorDiv(wd + 2 * padding - kw, stride) + 1;
    if (oh <= 0 || ow <= 0) {
      throw err(
          op
              + ": kernel "
              + Arrays.toString(ws)
              + " is larger than the padded input "
              + Arrays.toString(xs));
    }
    long[] os = oneD ? new long[] {nb, o, ow} : new long[] {nb, o, oh, ow};
    float[] xv = x.floats();
    float[] wv = w.floats();
    float[] out = new float[numel(os)];
    for (int n = 0; n < nb; n++) {
      for (int oc = 0; oc < o; oc++) {
        double b0 = bias == null ? 0.0 : bias.floats()[oc];
        for (int y = 0; y < oh; y++) {
          for (int xo = 0; xo < ow; xo++) {
            double acc = b0;
            for (int ic = 0; ic < c; ic++) {
              for (int i = 0; i < kh; i++) {
                int iy = y * sh - ph + i;
                if (iy < 0 || iy >= h) {
                  continue;
                }
                for (int j = 0; j < kw; j++) {
                  int ix = xo * stride - padding + j;
                  if (ix < 0 || ix >= wd) {
                    continue;
                  }
                  acc +=
                      (double) xv[((n * c + ic) * h + iy) * wd + ix]
                          * wv[((oc * c + ic) * kh + i) * kw + j];
                }
              }
            }
            out[((n * o + oc) * oh + y) * ow + xo] = (float) acc;
          }
        }
      }
    }
    return floats(x.dtype(), os, out);
  }

  /**
   * Grouped, dilated cross-correlation with per-axis strides and asymmetric pads; 1-D runs as 2-D
   * with a height of 1.
   */
  static Tensor convGeneral(Tensor x, Tensor w, Tensor bias, WindowGeometry g) {
    boolean oneD = g.spatial() == 1;
    long[] xs = x.shape();
    long[] ws = w.shape();
    String op = oneD ? "conv1d" : "conv2d";
    int nb = (int) xs[0];
    int c = (int) xs[1];
    int h = oneD ? 1 : (int) xs[2];
    int wd = (int) xs[oneD ? 2 : 3];
    int o = (int) ws[0];
    int cg = (int) ws[1];
    int kh = oneD ? 1 : (int) ws[2];
    int kw = (int) ws[oneD ? 2 : 3];
    int groups = (int) g.groups();
    int sh = oneD ? 1 : (int) g.strides()[0];
    int sw = (int) g.strides()[oneD ? 0 : 1];
    int ph = oneD ? 0 : (int) g.padBegin()[0];
    int phe = oneD ? 0 : (int) g.padEnd()[0];
    int pw = (int) g.padBegin()[oneD ? 0 : 1];
    int pwe = (int) g.padEnd()[oneD ? 0 : 1];
    int dh = oneD ? 1 : (int) g.dilations()[0];
    int dw = (int) g.dilations()[oneD ? 0 : 1];
    if ((long) cg * groups != c || o % groups != 0) {
      throw err(
          op
              + ": input has "
              + c
              + " channels but the weight "
              + Arrays.toString(ws)
              + " with "
              + groups
              + " groups expects "
              + (long) cg * groups);
    }
    if (bias != null && bias.size() != o) {
      throw err(op + ": bias has " + bias.size() + " elements for " + o + " output channels");
    }
    int oh = Math.floorDiv(h + ph + phe - (dh * (kh - 1) + 1), sh) + 1;
    int ow = Math.floorDiv(wd + pw + pwe - (dw * (kw - 1) + 1), sw) + 1;
    if (oh <= 0 || ow <= 0) {
      throw err(
          op
              + ": kernel "
              + Arrays.toString(ws)
              + " is larger than the padded input "
              + Arrays.toString(xs));
    }
    long[] os = oneD ? new long[] {nb, o, ow} : new long[] {nb, o, oh, ow};
    float[] xv = x.floats();
    float[] wv = w.floats();
    float[] out = new float[numel(os)];
    int og = o / groups;
    for (int n = 0; n < nb; n++) {
      for (int oc = 0; oc < o; oc++) {
        int c0 = (oc / og) * cg;
        double b0 = bias == null ? 0.0 : bias.floats()[oc];
        for (int y = 0; y < oh; y++) {
          for (int xo = 0; xo < ow; xo++) {
            double acc = b0;
            for (int ic = 0; ic < cg; ic++) {
              for (int i = 0; i < kh; i++) {
                int iy = y * sh - ph + i * dh;
                if (iy < 0 || iy >= h) {
                  continue;
                }
                for (int j = 0; j < kw; j++) {
                  int ix = xo * sw - pw + j * dw;
                  if (ix < 0 || ix >= wd) {
                    continue;
                  }
                  acc +=
                      (double) xv[((n * c + c0 + ic) * h + iy) * wd + ix]
                          * wv[((oc * cg + ic) * kh + i) * kw + j];
                }
              }
            }
            out[((n * o + oc) * oh + y) * ow + xo] = (float) acc;
          }
        }
      }
    }
    return floats(x.dtype(), os, out);
  }

  /** Pooling with per-axis kernels and strides and asymmetric pads (padded cells are skipped). */
  static Tensor poolGeneral(Tensor x, WindowGeometry g, boolean max) {
    long[] s = x.shape();
    String op = max ? "max_pool2d" : "avg_pool2d";
    int nc = (int) (s[0] * s[1]);
    int h = (int) s[2];
    int w = (int) s[3];
    int kh = (int) g.kernels()[0];
    int kw = (int) g.kernels()[1];
    int sh = (int) g.strides()[0];
    int sw = (int) g.strides()[1];
    int ph = (int) g.padBegin()[0];
    int pw = (int) g.padBegin()[1];
    int oh = Math.floorDiv(h + ph + (int) g.padEnd()[0] - kh, sh) + 1;
    int ow = Math.floorDiv(w + pw + (int) g.padEnd()[1] - kw, sw) + 1;
    if (oh <= 0 || ow <= 0) {
      throw err(
          op
              + ": kernel "
              + Arrays.toString(g.kernels())
              + " is larger than the padded input "
              + Arrays.toString(s));
    }
    long[] os = {s[0], s[1], oh, ow};
    float[] v = x.floats();
    float[] out = new float[numel(os)];
    for (int p = 0; p < nc; p++) {
      for (int y = 0; y < oh; y++) {
        for (int xo = 0; xo < ow; xo++) {
          double acc = max ? Double.NEGATIVE_INFINITY : 0.0;
          int count = 0;
          for (int i = 0; i < kh; i++) {
            int iy = y * sh - ph + i;
            for (int j = 0; j < kw; j++) {
              int ix = xo * sw - pw + j;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                continue;
              }
              double e = v[(p * h + iy) * w + ix];
              acc = max ? Math.max(acc, e) : acc + e;
              count++;
            }
          }
          int den = g.countIncludePad() ? kh * kw : count;
          out[(p * oh + y) * ow + xo] = (float) (max ? acc : acc / den);
        }
      }
    }
    return floats(x.dtype(), os, out);
  }

  static Tensor pool(Tensor x, int kernel, int stride, boolean max) {
    long[] s = x.shape();
    String op = max ? "max_pool2d" : "avg_pool2d";
    if (kernel <= 0 || stride <= 0) {
      throw err(op + ": kernel and stride must be positive");
    }
    int nc = (int) (s[0] * s[1]);
    int h = (int) s[2];
    int w = (int) s[3];
    if (h < kernel || w < kernel) {
      throw err(op + ": kernel " + kernel + " is larger than the input " + Arrays.toString(s));
    }
    int oh = (h - kernel) / stride + 1;
    int ow = (w - kernel) / stride + 1;
    long[] os = {s[0], s[1], oh, ow};
    float[] v = x.floats();
    float[] out = new float[numel(os)];
    for (int p = 0; p < nc; p++) {
      for (int y = 0; y < oh; y++) {
        for (int xo = 0; xo < ow; xo++) {
          double acc = max ? Double.NEGATIVE_INFINITY : 0.0;
          for (int i = 0; i < kernel; i++) {
            for (int j = 0; j < kernel; j++) {
              double e = v[(p * h + y * stride + i) * w + xo * stride + j];
              acc = max ? Math.max(acc, e) : acc + e;
            }
          }
          out[(p * oh + y) * ow + xo] = (float) (max ? acc : acc / (kernel * kernel));
        }
      }
    }
    return floats(x.dtype(), os, out);
  }

  static Tensor upsample(Tensor x, int factor) {
    if (factor <= 0) {
      throw err("upsample: factor must be positive, got " + factor);
    }
    long[] s = x.shape();
    long[] os = s.clone();
    for (int i = 2; i < s.length; i++) {
      os[i] = s[i] * factor;
    }
    int[] st = strides(s);
    int n = numel(os);
    int r = os.length;
    int[] idx = new int[n];
    int[] ctr = new int[r];
    for (int i = 0; i < n; i++) {
      int off = 0;
      for (int ax = 0; ax < r; ax++) {
        off += (ax >= 2 ? ctr[ax] / factor : ctr[ax]) * st[ax];
      }
      idx[i] = off;
      for (int ax = r - 1; ax >= 0; ax--) {
        if (++ctr[ax] < os[ax]) {
          break;
        }
        ctr[ax] = 0;
      }
    }
    return gather(x, idx, os);
  }

  static Tensor patchify(Tensor x, int p) {
    long[] s = x.shape();
    int r = s.length;
    int c = (int) s[r - 3];
    int h = (int) s[r - 2];
    int w = (int) s[r - 1];
    if (p <= 0 || h % p != 0 || w % p != 0) {
      throw err(
          "patchify: image size " + h + "x" + w + " is not a multiple of the patch size " + p);
    }
    int nh = h / p;
    int nw = w / p;
    int lead = prod(s, 0, r - 3);
    long[] os = Arrays.copyOf(s, r - 1);
    os[r - 3] = (long) nh * nw;
    os[r - 2] = (long) c * p * p;
    int[] idx = new int[numel(os)];
    int at = 0;
    for (int l = 0; l < lead; l++) {
      for (int py = 0; py < nh; py++) {
        for (int px = 0; px < nw; px++) {
          for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < p; i++) {
              for (int j = 0; j < p; j++) {
                idx[at++] = ((l * c + ch) * h + py * p + i) * w + px * p + j;
              }
            }
          }
        }
      }
    }
    return gather(x, idx, os);
  }
}
