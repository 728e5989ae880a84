package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.Buffers.alloc;
import static dev.cmod.ir.interp.Buffers.broadcastMap;
import static dev.cmod.ir.interp.Buffers.broadcastShapes;
import static dev.cmod.ir.interp.Buffers.data;
import static dev.cmod.ir.interp.Buffers.err;
import static dev.cmod.ir.interp.Buffers.gather;
import static dev.cmod.ir.interp.Buffers.numel;
import static dev.cmod.ir.interp.Buffers.one;
import static dev.cmod.ir.interp.Buffers.prod;
import static dev.cmod.ir.interp.Buffers.stridedMap;
import static dev.cmod.ir.interp.Buffers.strides;
import static dev.cmod.ir.interp.Buffers.wrap;
import static dev.cmod.ir.op.ShapeOps.AXIS;
import static dev.cmod.ir.op.ShapeOps.AXIS_LAST;
import static dev.cmod.ir.op.ShapeOps.DIMS;
import static dev.cmod.ir.op.ShapeOps.END;
import static dev.cmod.ir.op.ShapeOps.PERM;
import static dev.cmod.ir.op.ShapeOps.SIZES;
import static dev.cmod.ir.op.ShapeOps.START;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;

/**
 * Kernels of the shape family: reshape, transpose, concat, split, slice, unsqueeze, squeeze and
 * broadcast (data movement only).
 */
final class ShapeKernels {
  private ShapeKernels() {}

  static void register(Map<Op, Kernel> t) {
    t.put(Op.RESHAPE, (n, x, s) -> one(reshape(x[0], s.of(DIMS.get(n.attrs()), "reshape"))));
    t.put(Op.TRANSPOSE, (n, x, s) -> one(transpose(x[0], PERM.get(n.attrs()))));
    t.put(Op.CONCAT, (n, x, s) -> one(concat(AXIS_LAST.axis(n.attrs(), x[0].rank()), x)));
    t.put(
        Op.SPLIT,
        (n, x, s) ->
            split(
                x[0], AXIS_LAST.axis(n.attrs(), x[0].rank()), s.of(SIZES.get(n.attrs()), "split")));
    t.put(Op.SLICE, (n, x, s) -> one(slice(n, x[0], s)));
    t.put(Op.UNSQUEEZE, (n, x, s) -> one(unsqueeze(x[0], AXIS.getInt(n.attrs()))));
    t.put(Op.SQUEEZE, (n, x, s) -> one(squeeze(x[0], AXIS.getInt(n.attrs()))));
    t.put(
        Op.BROADCAST, (n, x, s) -> one(broadcastTo(x[0], s.of(DIMS.get(n.attrs()), "broadcast"))));
  }

  // ---------------------------------------------------------------- shape ops

  static Tensor reshape(Tensor x, long[] shape) {
    long want = numel(shape);
    if (want != x.size()) {
      throw err(
          "reshape: cannot view "
              + Arrays.toString(x.shape())
              + " ("
              + x.size()
              + " elements) as "
              + Arrays.toString(shape)
              + " ("
              + want
              + " elements)");
    }
    return wrap(x.dtype(), shape, x.isFloat() ? x.floats().clone() : x.longs().clone());
  }

  static Tensor transpose(Tensor x, long[] perm) {
    long[] s = x.shape();
    int[] st = strides(s);
    long[] os = new long[s.length];
    int[] ost = new int[s.length];
    for (int i = 0; i < s.length; i++) {
      os[i] = s[(int) perm[i]];
      ost[i] = st[(int) perm[i]];
    }
    return gather(x, stridedMap(os, ost, 0), os);
  }

  static Tensor concat(int axis, Tensor[] parts) {
    long[] s0 = parts[0].shape();
    long total = 0;
    for (Tensor p : parts) {
      long[] s = p.shape();
      for (int i = 0; i < s.length; i++) {
        if (i != axis && s[i] != s0[i]) {
          throw err(
              "concat: parts of shapes "
                  + Arrays.toString(s0)
                  + " and "
                  + Arrays.toString(s)
                  + " differ on axis "
                  + i);
        }
      }
      total += s[axis];
    }
    long[] os = s0.clone();
    os[axis] = total;
    int n = numel(os);
    int outer = prod(s0, 0, axis);
    int inner = prod(s0, axis + 1, s0.length);
    Object out = alloc(parts[0], n);
    for (int o = 0; o < outer; o++) {
      int off = 0;
      for (Tensor p : parts) {
        int len = (int) p.dim(axis) * inner;
        System.arraycopy(data(p), o * len, out, o * (int) total * inner + off, len);
        off += len;
      }
    }
    return wrap(parts[0].dtype(), os, out);
  }

  /** Slice bounds clamp to the axis, as in NumPy; the node's declared length must still hold. */
  private static Tensor slice(Node n, Tensor x, Kernel.Sizes sizes) {
    Attrs a = n.attrs();
    int axis = AXIS.getInt(a);
    long size = x.dim(axis);
    long start = Math.max(0, Math.min(size, sizes.of(START.get(a), "slice")));
    long end = Math.max(start, Math.min(size, sizes.of(END.get(a), "slice")));
    Long declared = sizes.tryEval(n.type().dim(axis));
    if (declared != null && declared != end - start) {
      throw new InterpreterException(
          "slice: range ["
              + START.get(a)
              + ", "
              + END.get(a)
              + ") = ["
              + sizes.of(START.get(a), "slice")
              + ", "
              + sizes.of(END.get(a), "slice")
              + ") is out of bounds for axis "
              + axis
              + " of size "
              + size);
    }
    return narrow(x, axis, (int) start, (int) (end - start));
  }

  /** The part {@code [start, start + len)} of {@code x} along {@code axis}. */
  static Tensor narrow(Tensor x, int axis, int start, int len) {
    long[] s = x.shape();
    long[] os = s.clone();
    os[axis] = len;
    int outer = prod(s, 0, axis);
    int inner = prod(s, axis + 1, s.length);
    int full = (int) s[axis];
    Object out = alloc(x, numel(os));
    Object in = data(x);
    for (int o = 0; o < outer; o++) {
      System.arraycopy(in, (o * full + start) * inner, out, o * len * inner, len * inner);
    }
    return wrap(x.dtype(), os, out);
  }

  static Tensor[] split(Tensor x, int axis, long[] sizes) {
    long sum = 0;
    for (long s : sizes) {
      if (s < 0) {
        throw err("split: negative part size in " + Arrays.toString(sizes));
      }
      sum += s;
    }
    if (sum != x.dim(axis)) {
      throw err(
          "split: parts "
              + Arrays.toString(sizes)
              + " add up to "
              + sum
              + " but axis "
              + axis
              + " of "
              + Arrays.toString(x.shape())
              + " has size "
              + x.dim(axis));
    }
    Tensor[] out = new Tensor[sizes.length];
    int start = 0;
    for (int i = 0; i < sizes.length; i++) {
      out[i] = narrow(x, axis, start, (int) sizes[i]);
      start += (int) sizes[i];
    }
    return out;
  }

  static Tensor unsqueeze(Tensor x, int axis) {
    long[] s = x.shape();
    long[] os = new long[s.length + 1];
    for (int i = 0, j = 0; i < os.length; i++) {
      os[i] = i == axis ? 1 : s[j++];
    }
    return reshape(x, os);
  }

  static Tensor squeeze(Tensor x, int axis) {
    long[] s = x.shape();
    if (s[axis] != 1) {
      throw err(
          "squeeze: axis "
              + axis
              + " of "
              + Arrays.toString(s)
              + " has size "
              + s[axis]
              + ", not 1");
    }
    long[] os = new long[s.length - 1];
    for (int i = 0, j = 0; i < s.length; i++) {
      if (i != axis) {
        os[j++] = s[i];
      }
    }
    return reshape(x, os);
  }

  static Tensor broadcastTo(Tensor x, long[] target) {
    long[] os = broadcastShapes("broadcast", x.shape(), target);
    return gather(x, broadcastMap(x.shape(), os), os);
  }
}
