package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.Buffers.broadcastMap;
import static dev.cmod.ir.interp.Buffers.broadcastShapes;
import static dev.cmod.ir.interp.Buffers.concatShape;
import static dev.cmod.ir.interp.Buffers.err;
import static dev.cmod.ir.interp.Buffers.floats;
import static dev.cmod.ir.interp.Buffers.numel;
import static dev.cmod.ir.interp.Buffers.one;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.AttentionOps;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.Arrays;
import java.util.Map;

/** Kernels of the contractions: matmul and scaled dot-product attention. */
final class AttentionKernels {
  private AttentionKernels() {}

  static void register(Map<Op, Kernel> t) {
    t.put(Op.MATMUL, (n, x, s) -> one(matmul(x[0], x[1])));
    t.put(
        Op.ATTENTION,
        (n, x, s) ->
            one(
                attention(
                    x[0],
                    x[1],
                    x[2],
                    x.length > 3 ? x[3] : null,
                    AttentionOps.CAUSAL.get(n.attrs()),
                    AttentionOps.CAUSAL_OFFSET.get(n.attrs()))));
  }

  // ---------------------------------------------------------------- matmul

  static Tensor matmul(Tensor a, Tensor b) {
    long[] as = a.shape();
    long[] bs = b.shape();
    boolean va = as.length == 1;
    boolean vb = bs.length == 1;
    if (va) {
      as = new long[] {1, as[0]};
    }
    if (vb) {
      bs = new long[] {bs[0], 1};
    }
    int ra = as.length;
    int rb = bs.length;
    int m = (int) as[ra - 2];
    int k = (int) as[ra - 1];
    int n = (int) bs[rb - 1];
    if (bs[rb - 2] != k) {
      throw err(
          "matmul: inner sizes differ: "
              + Arrays.toString(a.shape())
              + " @ "
              + Arrays.toString(b.shape()));
    }
    long[] batchA = Arrays.copyOf(as, ra - 2);
    long[] batchB = Arrays.copyOf(bs, rb - 2);
    long[] batch = broadcastShapes("matmul", batchA, batchB);
    int[] ma = broadcastMap(batchA, batch);
    int[] mb = broadcastMap(batchB, batch);
    long[] outShape = batch;
    if (!va) {
      outShape = concatShape(outShape, new long[] {m});
    }
    if (!vb) {
      outShape = concatShape(outShape, new long[] {n});
    }
    float[] x = a.floats();
    float[] y = b.floats();
    float[] out = new float[numel(outShape)];
    double[] row = new double[n];
    for (int bi = 0; bi < ma.length; bi++) {
      int ao = ma[bi] * m * k;
      int bo = mb[bi] * k * n;
      int oo = bi * m * n;
      for (int i = 0; i < m; i++) {
        Arrays.fill(row, 0.0);
        for (int p = 0; p < k; p++) {
          double xv = x[ao + i * k + p];
          int yo = bo + p * n;
          for (int j = 0; j < n; j++) {
            row[j] += xv * y[yo + j];
          }
        }
        for (int j = 0; j < n; j++) {
          out[oo + i * n + j] = (float) row[j];
        }
      }
    }
    return floats(a.dtype(), outShape, out);
  }

  static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, long offset) {
    long[] qs = q.shape();
    long[] ks = k.shape();
    long[] vs = v.shape();
    int r = qs.length;
    int lq = (int) qs[r - 2];
    int e = (int) qs[r - 1];
    int lk = (int) ks[r - 2];
    int ev = (int) vs[r - 1];
    if (ks[r - 1] != e) {
      throw err("attention: q has head size " + e + " but k has " + ks[r - 1]);
    }
    if (vs[r - 2] != lk) {
      throw err("attention: k has " + lk + " positions but v has " + vs[r - 2]);
    }
    long[] ql = Arrays.copyOf(qs, r - 2);
    long[] kl = Arrays.copyOf(ks, r - 2);
    long[] vl = Arrays.copyOf(vs, r - 2);
    long[] lead = broadcastShapes("attention", ql, kl, vl);
    int[] mq = broadcastMap(ql, lead);
    int[] mk = broadcastMap(kl, lead);
    int[] mv = broadcastMap(vl, lead);
    int[] mm = null;
    if (mask != null) {
      long[] scoresShape = concatShape(lead, new long[] {lq, lk});
      long[] both = broadcastShapes("attention mask", scoresShape, mask.shape());
      if (!Arrays.equals(both, scoresShape)) {
        throw err(
            "attention: mask of shape "
                + Arrays.toString(mask.shape())
                + " does not broadcast to the scores "
                + Arrays.toString(scoresShape));
      }
      mm = broadcastMap(mask.shape(), scoresShape);
    }
    boolean boolMask = mask != null && mask.dtype() == DType.BOOL;
    if (mask != null && !boolMask && !mask.isFloat()) {
      throw err(
          "attention: the mask must be bool (false = masked) or float (added), got "
              + mask.dtype());
    }
    float[] qv = q.floats();
    float[] kv = k.floats();
    float[] vv = v.floats();
    long[] os = concatShape(lead, new long[] {lq, ev});
    float[] out = new float[numel(os)];
    double scale = 1.0 / Math.sqrt(e);
    double[] scores = new double[lk];
    double[] acc = new double[ev];
    for (int b = 0; b < mq.length; b++) {
      int qo = mq[b] * lq * e;
      int ko = mk[b] * lk * e;
      int vo = mv[b] * lk * ev;
      for (int i = 0; i < lq; i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < lk; j++) {
          double s = 0;
          for (int c = 0; c < e; c++) {
            s += (double) qv[qo + i * e + c] * kv[ko + j * e + c];
          }
          s *= scale;
          if (causal && j > i + offset) {
            s = Double.NEGATIVE_INFINITY;
          }
          if (mm != null) {
            int mi = mm[(b * lq + i) * lk + j];
            if (boolMask) {
              if (mask.longs()[mi] == 0) {
                s = Double.NEGATIVE_INFINITY;
              }
            } else {
              s += mask.floats()[mi];
            }
          }
          scores[j] = s;
          max = Math.max(max, s);
        }
        double sum = 0;
        for (int j = 0; j < lk; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        Arrays.fill(acc, 0.0);
        for (int j = 0; j < lk; j++) {
          double p = scores[j] / sum;
          for (int c = 0; c < ev; c++) {
            acc[c] += p * vv[vo + j * ev + c];
          }
        }
        int oo = (b * lq + i) * ev;
        for (int c = 0; c < ev; c++) {
          out[oo + c] = (float) acc[c];
        }
      }
    }
    return floats(q.dtype(), os, out);
  }
}
