package dev.cmod.ir.interp;

import dev.cmod.ir.io.HalfFloats;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.Arrays;

/**
 * What the kernel families share: row-major shapes, strides and broadcasting, and building tensors
 * of each dtype. The kernels are plain loops over row-major data. Float math is done in double and
 * rounded to float (and further to f16/bf16 for those dtypes); integer math is exact with
 * wrap-around. Problems that depend on runtime values throw {@link InterpreterException}.
 */
final class Buffers {
  private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private Buffers() {}

  static InterpreterException err(String message) {
    return new InterpreterException(message);
  }

  // ---------------------------------------------------------------- shapes and indexing

  /** Element count of a shape, checked to fit a Java array. */
  static int numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw err("negative size in shape " + Arrays.toString(shape));
      }
      if (d == 0) {
        return 0;
      }
    }
    for (long d : shape) {
      if (n > MAX_ELEMENTS / d) {
        throw err(
            "a tensor of shape " + Arrays.toString(shape) + " is too large for the interpreter");
      }
      n *= d;
    }
    return (int) n;
  }

  static int prod(long[] s, int from, int to) {
    long n = 1;
    for (int i = from; i < to; i++) {
      n *= s[i];
    }
    return (int) n;
  }

  static int[] strides(long[] shape) {
    int[] st = new int[shape.length];
    long s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      st[i] = (int) s;
      s *= Math.max(shape[i], 1);
    }
    return st;
  }

  /** NumPy broadcasting of runtime shapes. */
  static long[] broadcastShapes(String op, long[]... shapes) {
    int r = 0;
    for (long[] s : shapes) {
      r = Math.max(r, s.length);
    }
    long[] out = new long[r];
    Arrays.fill(out, 1);
    for (long[] s : shapes) {
      for (int i = 0; i < s.length; i++) {
        int o = r - s.length + i;
        if (s[i] == out[o] || s[i] == 1) {
          continue;
        }
        if (out[o] != 1) {
          StringBuilder sb = new StringBuilder();
          for (long[] t : shapes) {
            sb.append(sb.length() > 0 ? " and " : "").append(Arrays.toString(t));
          }
          throw err(op + ": shapes " + sb + " do not broadcast");
        }
        out[o] = s[i];
      }
    }
    numel(out);
    return out;
  }

  /**
   * For every element of {@code outShape} (row-major), the flat offset {@code base + sum(idx[i] *
   * st[i])}.
   */
  static int[] stridedMap(long[] outShape, int[] st, int base) {
    int n = numel(outShape);
    int[] map = new int[n];
    int r = outShape.length;
    int[] ctr = new int[r];
    int cur = base;
    for (int i = 0; i < n; i++) {
      map[i] = cur;
      for (int ax = r - 1; ax >= 0; ax--) {
        ctr[ax]++;
        cur += st[ax];
        if (ctr[ax] < outShape[ax]) {
          break;
        }
        cur -= st[ax] * ctr[ax];
        ctr[ax] = 0;
      }
    }
    return map;
  }

  /**
   * For every element of {@code to}, the flat index of the element of {@code from} it broadcasts
   * from.
   */
  static int[] broadcastMap(long[] from, long[] to) {
    int r = to.length;
    int off = r - from.length;
    int[] fst = strides(from);
    int[] st = new int[r];
    for (int ax = 0; ax < r; ax++) {
      int fa = ax - off;
      st[ax] = fa < 0 || from[fa] == 1 ? 0 : fst[fa];
    }
    return stridedMap(to, st, 0);
  }

  static long[] concatShape(long[] a, long[] b) {
    long[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  // ---------------------------------------------------------------- tensor construction

  /** A float tensor of {@code dt}, rounding the values to f16/bf16 precision for those dtypes. */
  static Tensor floats(DType dt, long[] shape, float[] v) {
    if (dt == DType.F16) {
      for (int i = 0; i < v.length; i++) {
        v[i] = HalfFloats.roundToHalf(v[i]);
      }
    } else if (dt == DType.BF16) {
      for (int i = 0; i < v.length; i++) {
        v[i] = HalfFloats.roundToBf16(v[i]);
      }
    }
    return Tensor.ofFloats(dt, shape, v);
  }

  /**
   * An integer or bool tensor of {@code dt}: values wrap to its width ({@link DType#wrap}), bools
   * become 0/1.
   */
  static Tensor longs(DType dt, long[] shape, long[] v) {
    if (dt.byteSize < 8) {
      for (int i = 0; i < v.length; i++) {
        v[i] = dt.wrap(v[i]);
      }
    }
    return Tensor.ofLongs(dt, shape, v);
  }

  static Object data(Tensor t) {
    return t.isFloat() ? t.floats() : t.longs();
  }

  static Object alloc(Tensor like, int n) {
    return like.isFloat() ? new float[n] : new long[n];
  }

  static Tensor wrap(DType dt, long[] shape, Object arr) {
    return arr instanceof float[] f
        ? Tensor.ofFloats(dt, shape, f)
        : Tensor.ofLongs(dt, shape, (long[]) arr);
  }

  static Tensor copy(Tensor t) {
    return t.isFloat()
        ? Tensor.ofFloats(t.dtype(), t.shape(), t.floats().clone())
        : Tensor.ofLongs(t.dtype(), t.shape(), t.longs().clone());
  }

  /** out[i] = src[idx[i]], same dtype. */
  static Tensor gather(Tensor src, int[] idx, long[] shape) {
    if (src.isFloat()) {
      float[] s = src.floats();
      float[] o = new float[idx.length];
      for (int i = 0; i < idx.length; i++) {
        o[i] = s[idx[i]];
      }
      return Tensor.ofFloats(src.dtype(), shape, o);
    }
    long[] s = src.longs();
    long[] o = new long[idx.length];
    for (int i = 0; i < idx.length; i++) {
      o[i] = s[idx[i]];
    }
    return Tensor.ofLongs(src.dtype(), shape, o);
  }

  // ---------------------------------------------------------------- elementwise

  static Tensor[] one(Tensor t) {
    return new Tensor[] {t};
  }
}
