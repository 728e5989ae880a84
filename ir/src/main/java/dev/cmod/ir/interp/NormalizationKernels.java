package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.Buffers.err;
import static dev.cmod.ir.interp.Buffers.floats;
import static dev.cmod.ir.interp.Buffers.one;
import static dev.cmod.ir.interp.Buffers.prod;
import static dev.cmod.ir.op.NormalizationOps.AXIS;
import static dev.cmod.ir.op.NormalizationOps.LAYER_NORM_EPS;
import static dev.cmod.ir.op.NormalizationOps.RMS_NORM_EPS;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import java.util.Map;

/** Kernels of the normalizations: softmax, log-softmax, layer norm and RMS norm. */
final class NormalizationKernels {
  private NormalizationKernels() {}

  static void register(Map<Op, Kernel> t) {
    t.put(Op.SOFTMAX, (n, x, s) -> one(softmax(x[0], AXIS.axis(n.attrs(), x[0].rank()), false)));
    t.put(Op.LOG_SOFTMAX, (n, x, s) -> one(softmax(x[0], AXIS.axis(n.attrs(), x[0].rank()), true)));
    t.put(
        Op.LAYER_NORM,
        (n, x, s) -> one(layerNorm(x[0], x[1], x[2], LAYER_NORM_EPS.get(n.attrs()))));
    t.put(Op.RMS_NORM, (n, x, s) -> one(rmsNorm(x[0], x[1], RMS_NORM_EPS.get(n.attrs()))));
  }

  // ---------------------------------------------------------------- neural

  static Tensor softmax(Tensor x, int axis, boolean log) {
    long[] s = x.shape();
    int outer = prod(s, 0, axis);
    int len = (int) s[axis];
    int inner = prod(s, axis + 1, s.length);
    float[] v = x.floats();
    float[] r = new float[v.length];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int base = o * len * inner + i;
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < len; k++) {
          max = Math.max(max, v[base + k * inner]);
        }
        double sum = 0;
        for (int k = 0; k < len; k++) {
          sum += Math.exp(v[base + k * inner] - max);
        }
        double logSum = Math.log(sum);
        for (int k = 0; k < len; k++) {
          double d = v[base + k * inner] - max;
          r[base + k * inner] = (float) (log ? d - logSum : Math.exp(d) / sum);
        }
      }
    }
    return floats(x.dtype(), s, r);
  }

  static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
    int d = lastDim(x, gamma, "layer_norm");
    if (beta.size() != d) {
      throw err("layer_norm: beta has " + beta.size() + " elements but the last axis has " + d);
    }
    float[] v = x.floats();
    float[] g = gamma.floats();
    float[] b = beta.floats();
    float[] r = new float[v.length];
    for (int row = 0; d > 0 && row < v.length / d; row++) {
      int base = row * d;
      double mean = 0;
      for (int k = 0; k < d; k++) {
        mean += v[base + k];
      }
      mean /= d;
      double var = 0;
      for (int k = 0; k < d; k++) {
        double c = v[base + k] - mean;
        var += c * c;
      }
      var /= d;
      double inv = 1.0 / Math.sqrt(var + eps);
      for (int k = 0; k < d; k++) {
        r[base + k] = (float) ((v[base + k] - mean) * inv * g[k] + b[k]);
      }
    }
    return floats(x.dtype(), x.shape(), r);
  }

  static Tensor rmsNorm(Tensor x, Tensor gamma, double eps) {
    int d = lastDim(x, gamma, "rms_norm");
    float[] v = x.floats();
    float[] g = gamma.floats();
    float[] r = new float[v.length];
    for (int row = 0; d > 0 && row < v.length / d; row++) {
      int base = row * d;
      double ms = 0;
      for (int k = 0; k < d; k++) {
        ms += (double) v[base + k] * v[base + k];
      }
      ms /= d;
      double inv = 1.0 / Math.sqrt(ms + eps);
      for (int k = 0; k < d; k++) {
        r[base + k] = (float) (v[base + k] * inv * g[k]);
      }
    }
    return floats(x.dtype(), x.shape(), r);
  }

  private static int lastDim(Tensor x, Tensor gamma, String op) {
    int d = (int) x.dim(x.rank() - 1);
    if (gamma.size() != d) {
      throw err(op + ": gamma has " + gamma.size() + " elements but the last axis has " + d);
    }
    return d;
  }
}
