package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.Buffers.alloc;
import static dev.cmod.ir.interp.Buffers.broadcastMap;
import static dev.cmod.ir.interp.Buffers.broadcastShapes;
import static dev.cmod.ir.interp.Buffers.concatShape;
import static dev.cmod.ir.interp.Buffers.data;
import static dev.cmod.ir.interp.Buffers.err;
import static dev.cmod.ir.interp.Buffers.floats;
import static dev.cmod.ir.interp.Buffers.gather;
import static dev.cmod.ir.interp.Buffers.longs;
import static dev.cmod.ir.interp.Buffers.numel;
import static dev.cmod.ir.interp.Buffers.one;
import static dev.cmod.ir.interp.Buffers.prod;
import static dev.cmod.ir.interp.Buffers.wrap;
import static dev.cmod.ir.op.IndexingOps.AXIS;
import static dev.cmod.ir.op.IndexingOps.ELEMENT_AXIS;
import static dev.cmod.ir.op.IndexingOps.K;
import static dev.cmod.ir.op.IndexingOps.N;
import static dev.cmod.ir.op.IndexingOps.REDUCTION;
import static dev.cmod.ir.op.IndexingOps.TO;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.Arrays;
import java.util.Map;

/**
 * Kernels of the indexing family: take, gather and scatter of elements, one_hot, cosine, topk,
 * cast, nonzero and scatter_add.
 */
final class IndexingKernels {
  private IndexingKernels() {}

  static void register(Map<Op, Kernel> t) {
    t.put(Op.TAKE, (n, x, s) -> one(take(x[0], x[1])));
    t.put(Op.ONE_HOT, (n, x, s) -> one(oneHot(x[0], N.getInt(n.attrs()))));
    t.put(
        Op.COSINE,
        (n, x, s) ->
            one(cosine(x[0], x[1], AXIS.axis(n.attrs(), Math.max(x[0].rank(), x[1].rank())))));
    t.put(Op.TOPK, (n, x, s) -> topk(x[0], AXIS.axis(n.attrs(), x[0].rank()), K.get(n.attrs())));
    t.put(Op.CAST, (n, x, s) -> one(cast(x[0], TO.get(n.attrs()))));
    t.put(Op.NONZERO, (n, x, s) -> one(nonzero(x[0])));
    t.put(Op.SCATTER_ADD, (n, x, s) -> one(scatterAdd(x[0], x[1], x[2])));
    t.put(
        Op.GATHER_ELEMENTS,
        (n, x, s) -> one(gatherElements(x[0], x[1], ELEMENT_AXIS.axis(n.attrs(), x[0].rank()))));
    t.put(
        Op.SCATTER_ELEMENTS,
        (n, x, s) ->
            one(
                scatterElements(
                    x[0],
                    x[1],
                    x[2],
                    ELEMENT_AXIS.axis(n.attrs(), x[0].rank()),
                    REDUCTION.get(n.attrs()))));
  }

  /** The ascending positions of the true elements of a 1-D bool tensor. */
  static Tensor nonzero(Tensor mask) {
    long[] m = mask.longs();
    int count = 0;
    for (long v : m) {
      count += v != 0 ? 1 : 0;
    }
    long[] at = new long[count];
    for (int i = 0, j = 0; i < m.length; i++) {
      if (m[i] != 0) {
        at[j++] = i;
      }
    }
    return Tensor.ofLongs(DType.I64, new long[] {count}, at);
  }

  /** data with updates[i] added to row ids[i], i ascending (so repeated ids add in order). */
  static Tensor scatterAdd(Tensor data, Tensor ids, Tensor updates) {
    long rows = data.dim(0);
    int row = prod(data.shape(), 1, data.rank());
    long[] iv = ids.longs();
    if (updates.dim(0) != iv.length || updates.size() != iv.length * row) {
      throw err(
          "scatter_add: "
              + iv.length
              + " ids but updates of shape "
              + Arrays.toString(updates.shape())
              + " for rows of "
              + row);
    }
    for (int i = 0; i < iv.length; i++) {
      if (iv[i] < 0 || iv[i] >= rows) {
        throw err("scatter_add: id " + iv[i] + " is out of range for " + rows + " rows");
      }
    }
    if (data.dtype() == DType.F64) {
      double[] out = data.doubles().clone();
      double[] u = updates.doubles();
      for (int i = 0; i < iv.length; i++) {
        for (int j = 0, at = (int) iv[i] * row; j < row; j++) {
          out[at + j] += u[i * row + j];
        }
      }
      return Tensor.ofDoubles(data.shape(), out);
    }
    if (data.isFloat()) {
      float[] out = data.floats().clone();
      float[] u = updates.floats();
      for (int i = 0; i < iv.length; i++) {
        for (int j = 0, at = (int) iv[i] * row; j < row; j++) {
          out[at + j] += u[i * row + j];
        }
      }
      return floats(data.dtype(), data.shape(), out);
    }
    long[] out = data.longs().clone();
    long[] u = updates.longs();
    for (int i = 0; i < iv.length; i++) {
      for (int j = 0, at = (int) iv[i] * row; j < row; j++) {
        out[at + j] += u[i * row + j];
      }
    }
    return longs(data.dtype(), data.shape(), out);
  }

  /**
   * The flat position in {@code data} of each element of {@code ids}: its own position with the
   * axis coordinate replaced by its value (negative counting from the end).
   */
  private static int[] elementPositions(String op, long[] data, Tensor ids, int axis) {
    long[] is = ids.shape();
    for (int i = 0; i < is.length; i++) {
      if (i != axis && is[i] > data[i]) {
        throw err(
            op + ": indices " + Arrays.toString(is) + " exceed the data " + Arrays.toString(data));
      }
    }
    int[] ds = Buffers.strides(data);
    int[] st = Buffers.strides(is);
    long[] iv = ids.longs();
    int[] pos = new int[iv.length];
    for (int f = 0; f < iv.length; f++) {
      long k = iv[f] < 0 ? iv[f] + data[axis] : iv[f];
      if (k < 0 || k >= data[axis]) {
        throw err(
            op
                + ": index "
                + iv[f]
                + " is out of range for axis "
                + axis
                + " of size "
                + data[axis]);
      }
      int p = 0;
      for (int d = 0; d < is.length; d++) {
        long c = d == axis ? k : (f / st[d]) % is[d];
        p += (int) c * ds[d];
      }
      pos[f] = p;
    }
    return pos;
  }

  static Tensor gatherElements(Tensor data, Tensor ids, int axis) {
    return Buffers.gather(
        data, elementPositions("gather_elements", data.shape(), ids, axis), ids.shape());
  }

  static Tensor scatterElements(Tensor data, Tensor ids, Tensor updates, int axis, String how) {
    int[] pos = elementPositions("scatter_elements", data.shape(), ids, axis);
    if (data.isFloat()) {
      float[] o = data.floats().clone();
      float[] u = updates.floats();
      for (int i = 0; i < pos.length; i++) {
        o[pos[i]] =
            switch (how) {
              case "add" -> o[pos[i]] + u[i];
              case "mul" -> o[pos[i]] * u[i];
              default -> u[i];
            };
      }
      return floats(data.dtype(), data.shape(), o);
    }
    long[] o = data.longs().clone();
    long[] u = updates.longs();
    for (int i = 0; i < pos.length; i++) {
      o[pos[i]] =
          switch (how) {
            case "add" -> o[pos[i]] + u[i];
            case "mul" -> o[pos[i]] * u[i];
            default -> u[i];
          };
    }
    return longs(data.dtype(), data.shape(), o);
  }

  static Tensor take(Tensor table, Tensor ids) {
    long[] ts = table.shape();
    long rows = ts[0];
    int row = prod(ts, 1, ts.length);
    long[] os = concatShape(ids.shape(), Arrays.copyOfRange(ts, 1, ts.length));
    Object out = alloc(table, numel(os));
    Object in = data(table);
    long[] iv = ids.longs();
    for (int i = 0; i < iv.length; i++) {
      long id = iv[i];
      if (id < 0 || id >= rows) {
        throw err(
            "take: id "
                + id
                + " (element "
                + i
                + " of the ids) is out of range for a table of "
                + rows
                + " rows");
      }
      System.arraycopy(in, (int) id * row, out, i * row, row);
    }
    return wrap(table.dtype(), os, out);
  }

  static Tensor oneHot(Tensor ids, int n) {
    if (n < 0) {
      throw err("one_hot: negative class count " + n);
    }
    long[] os = concatShape(ids.shape(), new long[] {n});
    float[] out = new float[numel(os)];
    long[] iv = ids.longs();
    for (int i = 0; i < iv.length; i++) {
      if (iv[i] >= 0 && iv[i] < n) {
        out[i * n + (int) iv[i]] = 1f;
      }
    }
    return Tensor.ofFloats(os, out);
  }

  static Tensor cosine(Tensor a, Tensor b, int axis) {
    long[] s = broadcastShapes("cosine", a.shape(), b.shape());
    int[] ia = broadcastMap(a.shape(), s);
    int[] ib = broadcastMap(b.shape(), s);
    int outer = prod(s, 0, axis);
    int len = (int) s[axis];
    int inner = prod(s, axis + 1, s.length);
    long[] os = new long[s.length - 1];
    for (int i = 0, j = 0; i < s.length; i++) {
      if (i != axis) {
        os[j++] = s[i];
      }
    }
    float[] x = a.floats();
    float[] y = b.floats();
    float[] out = new float[outer * inner];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int k = 0; k < len; k++) {
          int f = (o * len + k) * inner + i;
          double u = x[ia[f]];
          double v = y[ib[f]];
          dot += u * v;
          na += u * u;
          nb += v * v;
        }
        out[o * inner + i] = (float) (dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-8));
      }
    }
    return floats(a.dtype(), os, out);
  }

  static Tensor[] topk(Tensor x, int axis, long k) {
    long[] s = x.shape();
    if (k < 0 || k > s[axis]) {
      throw err(
          "topk: k = " + k + " is out of range for axis " + axis + " of " + Arrays.toString(s));
    }
    int outer = prod(s, 0, axis);
    int len = (int) s[axis];
    int inner = prod(s, axis + 1, s.length);
    long[] os = s.clone();
    os[axis] = k;
    int n = numel(os);
    int kk = (int) k;
    int[] src = new int[n];
    long[] idx = new long[n];
    Integer[] order = new Integer[len];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int base = o * len * inner + i;
        for (int j = 0; j < len; j++) {
          order[j] = j;
        }
        if (x.isFloat()) {
          float[] v = x.floats();
          Arrays.sort(
              order,
              (p, q) -> {
                int c = descending(v[base + p * inner], v[base + q * inner]);
                return c != 0 ? c : Integer.compare(p, q);
              });
        } else {
          long[] v = x.longs();
          Arrays.sort(
              order,
              (p, q) -> {
                int c = Long.compare(v[base + q * inner], v[base + p * inner]);
                return c != 0 ? c : Integer.compare(p, q);
              });
        }
        for (int j = 0; j < kk; j++) {
          int at = (o * kk + j) * inner + i;
          src[at] = base + order[j] * inner;
          idx[at] = order[j];
        }
      }
    }
    return new Tensor[] {gather(x, src, os), Tensor.ofLongs(DType.I64, os, idx)};
  }

  /** Orders larger first; NaN counts as the largest; -0.0 ties with 0.0. */
  private static int descending(double a, double b) {
    if (a == b) {
      return 0;
    }
    boolean na = Double.isNaN(a);
    boolean nb = Double.isNaN(b);
    if (na || nb) {
      return na == nb ? 0 : (na ? -1 : 1);
    }
    return a > b ? -1 : 1;
  }

  static Tensor cast(Tensor x, DType to) {
    int n = x.size();
    if (to.isFloat()) {
      float[] r;
      if (x.isFloat()) {
        r = x.floats().clone();
      } else {
        long[] v = x.longs();
        boolean u64 = x.dtype() == DType.U64;
        r = new float[n];
        for (int i = 0; i < n; i++) {
          // long to float directly, no double rounding; u64 values of 2^63 and more are unsigned
          r[i] = u64 && v[i] < 0 ? 2 * (float) (v[i] >>> 1 | (v[i] & 1)) : (float) v[i];
        }
      }
      return floats(to, x.shape(), r);
    }
    long[] r = new long[n];
    if (x.isFloat()) {
      float[] v = x.floats();
      for (int i = 0; i < n; i++) {
        r[i] = to == DType.BOOL ? (v[i] != 0 ? 1 : 0) : (long) v[i]; // truncates toward zero
      }
    } else {
      System.arraycopy(x.longs(), 0, r, 0, n);
    }
    return longs(to, x.shape(), r);
  }
}
