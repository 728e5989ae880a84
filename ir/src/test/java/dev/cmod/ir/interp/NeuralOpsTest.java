package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.T.bool;
import static dev.cmod.ir.interp.T.close;
import static dev.cmod.ir.interp.T.f;
import static dev.cmod.ir.interp.T.ramp;
import static dev.cmod.ir.interp.T.run;
import static dev.cmod.ir.interp.T.s;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NeuralOpsTest {
  @Test
  void softmaxOfOneTwoThree() {
    double sum = Math.exp(1) + Math.exp(2) + Math.exp(3);
    Tensor x = f(s(3), 1, 2, 3);
    close(
        s(3),
        new double[] {Math.exp(1) / sum, Math.exp(2) / sum, Math.exp(3) / sum},
        run(Op.SOFTMAX, Attrs.of("axis", 0), x),
        1e-7);
    close(
        s(3),
        new double[] {1 - Math.log(sum), 2 - Math.log(sum), 3 - Math.log(sum)},
        run(Op.LOG_SOFTMAX, Attrs.of("axis", 0), x),
        1e-6);
  }

  @Test
  void softmaxIsStableAndRespectsTheAxis() {
    // columns of [[1000, 0], [1001, 0]]: softmax over axis 0
    Tensor x = f(s(2, 2), 1000, 0, 1001, 0);
    double e = Math.exp(-1);
    close(
        s(2, 2),
        new double[] {e / (1 + e), 0.5, 1 / (1 + e), 0.5},
        run(Op.SOFTMAX, Attrs.of("axis", 0), x),
        1e-7);
    close(
        s(2, 2),
        new double[] {-1 - Math.log(1 + e), Math.log(0.5), -Math.log(1 + e), Math.log(0.5)},
        run(Op.LOG_SOFTMAX, Attrs.of("axis", 0), x),
        1e-6);
  }

  @Test
  void layerNormOnARow() {
    Tensor x = f(s(2, 4), 1, 2, 3, 4, 2, 2, 2, 2);
    Tensor gamma = f(s(4), 1, 2, 1, 1);
    Tensor beta = f(s(4), 0, 0, 1, 0);
    double eps = 1e-5;
    // row 0: mean 2.5, biased variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25; row 1: constant
    double inv = 1 / Math.sqrt(1.25 + eps);
    double[] want = {-1.5 * inv, -0.5 * inv * 2, 0.5 * inv + 1, 1.5 * inv, 0, 0, 1, 0};
    close(s(2, 4), want, run(Op.LAYER_NORM, Attrs.of("eps", eps), x, gamma, beta), 1e-6);
  }

  @Test
  void rmsNormOnARow() {
    Tensor x = f(s(1, 4), 1, 2, 3, 4);
    Tensor gamma = f(s(4), 1, 1, 2, 0.5f);
    double inv = 1 / Math.sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
    close(
        s(1, 4),
        new double[] {inv, 2 * inv, 6 * inv, 2 * inv},
        run(Op.RMS_NORM, Attrs.of("eps", 1e-6), x, gamma),
        1e-6);
  }

  // ---------------------------------------------------------------- attention

  /** Loops straight from the definition, over [Lq, E], [Lk, E], [Lk, Ev] slices. */
  private static double[] attentionRef(
      float[] q,
      float[] k,
      float[] v,
      int lq,
      int lk,
      int e,
      int ev,
      boolean causal,
      boolean[] keep,
      float[] add) {
    double[] out = new double[lq * ev];
    for (int i = 0; i < lq; i++) {
      double[] w = new double[lk];
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < lk; j++) {
        double dot = 0;
        for (int c = 0; c < e; c++) {
          dot += q[i * e + c] * k[j * e + c];
        }
        w[j] = dot / Math.sqrt(e);
        if ((causal && j > i) || (keep != null && !keep[i * lk + j])) {
          w[j] = Double.NEGATIVE_INFINITY;
        }
        if (add != null) {
          w[j] += add[i * lk + j];
        }
        max = Math.max(max, w[j]);
      }
      double sum = 0;
      for (int j = 0; j < lk; j++) {
        w[j] = Math.exp(w[j] - max);
        sum += w[j];
      }
      for (int j = 0; j < lk; j++) {
        for (int c = 0; c < ev; c++) {
          out[i * ev + c] += w[j] / sum * v[j * ev + c];
        }
      }
    }
    return out;
  }

  private static float[] random(Random r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  @Test
  void attentionByHand() {
    Tensor q = f(s(1, 2), 1, 0);
    Tensor k = f(s(2, 2), 1, 0, 0, 1);
    Tensor v = f(s(2, 2), 1, 2, 3, 4);
    double p0 = Math.exp(1 / Math.sqrt(2)) / (Math.exp(1 / Math.sqrt(2)) + 1);
    close(
        s(1, 2),
        new double[] {p0 + 3 * (1 - p0), 2 * p0 + 4 * (1 - p0)},
        run(Op.ATTENTION, Attrs.NONE, q, k, v),
        1e-6);
  }

  @Test
  void attentionCausal() {
    Random r = new Random(1);
    float[] q = random(r, 3 * 2);
    float[] k = random(r, 3 * 2);
    float[] v = random(r, 3 * 4);
    Tensor got =
        run(Op.ATTENTION, Attrs.of("causal", true), f(s(3, 2), q), f(s(3, 2), k), f(s(3, 4), v));
    close(s(3, 4), attentionRef(q, k, v, 3, 3, 2, 4, true, null, null), got, 1e-6);
    // the first query sees only the first key: its output is v[0]
    close(
        s(4),
        new float[] {v[0], v[1], v[2], v[3]},
        Tensor.ofFloats(s(4), java.util.Arrays.copyOf(got.floats(), 4)),
        1e-6);
  }

  @Test
  void attentionCausalWithMoreKeysThanQueries() {
    Random r = new Random(2);
    float[] q = random(r, 2 * 3);
    float[] k = random(r, 4 * 3);
    float[] v = random(r, 4 * 2);
    Tensor got =
        run(Op.ATTENTION, Attrs.of("causal", true), f(s(2, 3), q), f(s(4, 3), k), f(s(4, 2), v));
    close(s(2, 2), attentionRef(q, k, v, 2, 4, 3, 2, true, null, null), got, 1e-6);
  }

  @Test
  void attentionBoolAndFloatMasksAndBatchBroadcast() {
    Random r = new Random(3);
    // q [2, 1, 2, 2] against k, v [1, 3, 3, 2]: leading dims broadcast to [2, 3]
    float[] q = random(r, 2 * 2 * 2);
    float[] k = random(r, 3 * 3 * 2);
    float[] v = random(r, 3 * 3 * 2);
    long[] keepBits = {1, 0, 1, 0, 1, 1};
    boolean[] keep = {true, false, true, false, true, true};
    float[] add = {0, -1, 2, 0.5f, 0, -3};
    Tensor tq = f(s(2, 1, 2, 2), q);
    Tensor tk = f(s(1, 3, 3, 2), k);
    Tensor tv = f(s(1, 3, 3, 2), v);
    Tensor gotBool = run(Op.ATTENTION, Attrs.NONE, tq, tk, tv, bool(s(2, 3), keepBits));
    Tensor gotAdd = run(Op.ATTENTION, Attrs.NONE, tq, tk, tv, f(s(2, 3), add));
    double[] wantBool = new double[2 * 3 * 2 * 2];
    double[] wantAdd = new double[wantBool.length];
    for (int b = 0; b < 2; b++) {
      for (int h = 0; h < 3; h++) {
        float[] qs = java.util.Arrays.copyOfRange(q, b * 4, b * 4 + 4);
        float[] ks = java.util.Arrays.copyOfRange(k, h * 6, h * 6 + 6);
        float[] vs = java.util.Arrays.copyOfRange(v, h * 6, h * 6 + 6);
        System.arraycopy(
            attentionRef(qs, ks, vs, 2, 3, 2, 2, false, keep, null),
            0,
            wantBool,
            (b * 3 + h) * 4,
            4);
        System.arraycopy(
            attentionRef(qs, ks, vs, 2, 3, 2, 2, false, null, add), 0, wantAdd, (b * 3 + h) * 4, 4);
      }
    }
    close(s(2, 3, 2, 2), wantBool, gotBool, 1e-6);
    close(s(2, 3, 2, 2), wantAdd, gotAdd, 1e-6);
  }

  @Test
  void attentionFullyMaskedRowIsNaN() {
    Tensor q = f(s(2, 1), 1, 2);
    Tensor kv = f(s(2, 1), 1, 2);
    Tensor got = run(Op.ATTENTION, Attrs.NONE, q, kv, kv, bool(s(2, 2), 0, 0, 1, 1));
    assertTrue(Float.isNaN(got.floats()[0]));
    assertTrue(!Float.isNaN(got.floats()[1]));
  }

  // ---------------------------------------------------------------- convolution and pooling

  @Test
  void conv2dOn3x3With2x2Kernel() {
    Tensor x = f(s(1, 1, 3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9);
    Tensor w = f(s(1, 1, 2, 2), 1, 2, 3, 4);
    // out[i][j] = x[i][j] + 2 x[i][j+1] + 3 x[i+1][j] + 4 x[i+1][j+1]
    close(
        s(1, 1, 2, 2),
        new float[] {37, 47, 67, 77},
        run(Op.CONV2D, Attrs.of("stride", 1, "padding", 0), x, w),
        0);
    close(
        s(1, 1, 2, 2),
        new float[] {37.5f, 47.5f, 67.5f, 77.5f},
        run(Op.CONV2D, Attrs.of("stride", 1, "padding", 0), x, w, f(s(1), 0.5f)),
        0);
    // padding 1, stride 2: windows start at (-1, -1), (-1, 1), (1, -1), (1, 1)
    close(
        s(1, 1, 2, 2),
        new float[] {4, 2 * 3 + 3 * 4, 4 * 2 + 7 * 4, 77},
        run(Op.CONV2D, Attrs.of("stride", 2, "padding", 1), x, w),
        0);
  }

  @Test
  void conv2dManyChannelsAgainstLoops() {
    Random r = new Random(4);
    int n = 2, c = 3, h = 5, wd = 4, o = 2, kh = 3, kw = 2, stride = 2, pad = 1;
    float[] x = random(r, n * c * h * wd);
    float[] w = random(r, o * c * kh * kw);
    float[] b = random(r, o);
    int oh = (h + 2 * pad - kh) / stride + 1;
    int ow = (wd + 2 * pad - kw) / stride + 1;
    double[] want = new double[n * o * oh * ow];
    for (int in = 0; in < n; in++) {
      for (int oc = 0; oc < o; oc++) {
        for (int y = 0; y < oh; y++) {
          for (int xx = 0; xx < ow; xx++) {
            double acc = b[oc];
            for (int ic = 0; ic < c; ic++) {
              for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                  int iy = y * stride + i - pad;
                  int ix = xx * stride + j - pad;
                  if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                    acc +=
                        x[((in * c + ic) * h + iy) * wd + ix]
                            * w[((oc * c + ic) * kh + i) * kw + j];
                  }
                }
              }
            }
            want[((in * o + oc) * oh + y) * ow + xx] = acc;
          }
        }
      }
    }
    Tensor got =
        run(
            Op.CONV2D,
            Attrs.of("stride", stride, "padding", pad),
            f(s(n, c, h, wd), x),
            f(s(o, c, kh, kw), w),
            f(s(o), b));
    close(s(n, o, oh, ow), want, got, 1e-5);
  }

  @Test
  void conv1d() {
    Tensor x = f(s(1, 1, 5), 1, 2, 3, 4, 5);
    Tensor w = f(s(1, 1, 3), 1, 0, -1);
    // out[i] = x[i-1] - x[i+1] with zero padding, plus the bias 1
    close(
        s(1, 1, 5),
        new float[] {-1, -1, -1, -1, 5},
        run(Op.CONV1D, Attrs.of("stride", 1, "padding", 1), x, w, f(s(1), 1)),
        0);
    close(
        s(1, 1, 2),
        new float[] {-2, -2},
        run(Op.CONV1D, Attrs.of("stride", 2, "padding", 0), x, w),
        0);
    // two input channels summed
    Tensor x2 = f(s(1, 2, 3), 1, 2, 3, 10, 20, 30);
    Tensor w2 = f(s(1, 2, 2), 1, 1, 1, -1);
    close(
        s(1, 1, 2),
        new float[] {1 + 2 + 10 - 20, 2 + 3 + 20 - 30},
        run(Op.CONV1D, Attrs.of("stride", 1, "padding", 0), x2, w2),
        0);
  }

  @Test
  void pooling() {
    Tensor x = ramp(1, 1, 4, 4);
    close(
        s(1, 1, 2, 2),
        new float[] {5, 7, 13, 15},
        run(Op.MAX_POOL2D, Attrs.of("kernel", 2, "stride", 2), x),
        0);
    close(
        s(1, 1, 2, 2),
        new float[] {2.5f, 4.5f, 10.5f, 12.5f},
        run(Op.AVG_POOL2D, Attrs.of("kernel", 2, "stride", 2), x),
        0);
    close(
        s(1, 1, 2, 2),
        new float[] {10, 11, 14, 15},
        run(Op.MAX_POOL2D, Attrs.of("kernel", 3, "stride", 1), x),
        0);
    close(
        s(1, 1, 2, 2),
        new float[] {5, 6, 9, 10},
        run(Op.AVG_POOL2D, Attrs.of("kernel", 3, "stride", 1), x),
        0);
    // floor: a 5x5 input with kernel 2, stride 2 gives 2x2 (the last row and column are dropped)
    close(
        s(1, 1, 2, 2),
        new float[] {6, 8, 16, 18},
        run(Op.MAX_POOL2D, Attrs.of("kernel", 2, "stride", 2), ramp(1, 1, 5, 5)),
        0);
  }

  @Test
  void upsampleNearest() {
    close(
        s(1, 1, 4),
        new float[] {1, 1, 2, 2},
        run(Op.UPSAMPLE, Attrs.of("factor", 2), f(s(1, 1, 2), 1, 2)),
        0);
    close(
        s(1, 1, 4, 4),
        new float[] {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4},
        run(Op.UPSAMPLE, Attrs.of("factor", 2), f(s(1, 1, 2, 2), 1, 2, 3, 4)),
        0);
    close(
        s(1, 2, 3),
        new float[] {1, 1, 1, 2, 2, 2},
        run(Op.UPSAMPLE, Attrs.of("factor", 3), f(s(1, 2, 1), 1, 2)),
        0);
  }

  @Test
  void patchifyRamp() {
    // x[c][h][w] = 16c + 4h + w; patches in row-major order, features c*4 + i*2 + j
    Tensor got = run(Op.PATCHIFY, Attrs.of("patch", 2), ramp(1, 2, 4, 4));
    close(
        s(1, 4, 8),
        new float[] {
          0, 1, 4, 5, 16, 17, 20, 21,
          2, 3, 6, 7, 18, 19, 22, 23,
          8, 9, 12, 13, 24, 25, 28, 29,
          10, 11, 14, 15, 26, 27, 30, 31
        },
        got,
        0);
    // no batch dim: [C, H, W]
    close(
        s(1, 4),
        new float[] {0, 1, 2, 3},
        run(Op.PATCHIFY, Attrs.of("patch", 2), ramp(1, 2, 2)),
        0);
  }
}
