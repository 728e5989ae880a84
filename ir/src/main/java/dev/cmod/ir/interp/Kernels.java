package dev.cmod.ir.interp;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.WindowGeometry;
import dev.cmod.ir.io.HalfFloats;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.Arrays;

/**
 * The interpreter's kernels: plain loops over row-major data. Float math is done in double and
 * rounded to float (and further to f16/bf16 for those dtypes); integer math is exact with
 * wrap-around. Problems that depend on runtime values throw {@link InterpreterException}.
 */
final class Kernels {
  private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private Kernels() {}

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

  /** An integer or bool tensor of {@code dt}: i32 values wrap to 32 bits, bools become 0/1. */
  static Tensor longs(DType dt, long[] shape, long[] v) {
    if (dt == DType.I32) {
      for (int i = 0; i < v.length; i++) {
        v[i] = (int) v[i];
      }
    } else if (dt == DType.BOOL) {
      for (int i = 0; i < v.length; i++) {
        v[i] = v[i] != 0 ? 1 : 0;
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

  static Tensor binary(Op op, Tensor a, Tensor b) {
    if (a.isFloat() != b.isFloat()) {
      throw new IllegalStateException(op.text() + ": operands " + a.dtype() + " and " + b.dtype());
    }
    long[] s = broadcastShapes(op.text(), a.shape(), b.shape());
    int[] ia = broadcastMap(a.shape(), s);
    int[] ib = broadcastMap(b.shape(), s);
    int n = ia.length;
    if (op.isComparison()) {
      long[] r = new long[n];
      if (a.isFloat()) {
        float[] x = a.floats();
        float[] y = b.floats();
        for (int i = 0; i < n; i++) {
          r[i] = compare(op, x[ia[i]], y[ib[i]]) ? 1 : 0;
        }
      } else {
        long[] x = a.longs();
        long[] y = b.longs();
        for (int i = 0; i < n; i++) {
          r[i] = compare(op, x[ia[i]], y[ib[i]]) ? 1 : 0;
        }
      }
      return Tensor.ofLongs(DType.BOOL, s, r);
    }
    if (a.isFloat()) {
      float[] x = a.floats();
      float[] y = b.floats();
      float[] r = new float[n];
      for (int i = 0; i < n; i++) {
        r[i] = (float) apply(op, x[ia[i]], y[ib[i]]);
      }
      return floats(a.dtype(), s, r);
    }
    long[] x = a.longs();
    long[] y = b.longs();
    long[] r = new long[n];
    for (int i = 0; i < n; i++) {
      r[i] = apply(op, x[ia[i]], y[ib[i]]);
    }
    return longs(a.dtype(), s, r);
  }

  private static boolean compare(Op op, double x, double y) {
    return switch (op) {
      case LESS -> x < y;
      case LESS_EQUAL -> x <= y;
      case GREATER -> x > y;
      case GREATER_EQUAL -> x >= y;
      case EQUAL -> x == y;
      case NOT_EQUAL -> x != y;
      default -> throw new IllegalStateException(op.text());
    };
  }

  private static boolean compare(Op op, long x, long y) {
    return switch (op) {
      case LESS -> x < y;
      case LESS_EQUAL -> x <= y;
      case GREATER -> x > y;
      case GREATER_EQUAL -> x >= y;
      case EQUAL -> x == y;
      case NOT_EQUAL -> x != y;
      default -> throw new IllegalStateException(op.text());
    };
  }

  private static double apply(Op op, double x, double y) {
    return switch (op) {
      case ADD -> x + y;
      case SUB -> x - y;
      case MUL -> x * y;
      case DIV -> x / y;
      case POW -> Math.pow(x, y);
      case MAXIMUM -> Math.max(x, y);
      case MINIMUM -> Math.min(x, y);
      default -> throw new IllegalStateException(op.text());
    };
  }

  private static long apply(Op op, long x, long y) {
    return switch (op) {
      case ADD -> x + y;
      case SUB -> x - y;
      case MUL -> x * y;
      case DIV -> {
        if (y == 0) {
          throw err("div: integer division by zero");
        }
        yield x / y; // Java truncates toward zero, like ONNX and C
      }
      case POW -> ipow(x, y);
      case MAXIMUM -> Math.max(x, y);
      case MINIMUM -> Math.min(x, y);
      default -> throw new IllegalStateException(op.text());
    };
  }

  private static long ipow(long base, long exp) {
    if (exp < 0) {
      if (base == 1) {
        return 1;
      }
      if (base == -1) {
        return (exp & 1) == 0 ? 1 : -1;
      }
      if (base == 0) {
        throw err("pow: 0 to a negative integer power");
      }
      return 0;
    }
    long r = 1;
    long b = base;
    long e = exp;
    while (e > 0) {
      if ((e & 1) != 0) {
        r *= b;
      }
      b *= b;
      e >>= 1;
    }
    return r;
  }

  static Tensor unary(Op op, String approx, Tensor x) {
    int n = x.size();
    if (!x.isFloat()) {
      long[] v = x.longs();
      long[] r = new long[n];
      for (int i = 0; i < n; i++) {
        r[i] =
            switch (op) {
              case NEG -> -v[i];
              case ABS -> Math.abs(v[i]);
              case RELU -> Math.max(v[i], 0);
              default -> throw new IllegalStateException(op.text() + " on " + x.dtype());
            };
      }
      return longs(x.dtype(), x.shape(), r);
    }
    boolean tanhGelu = "tanh".equals(approx);
    float[] v = x.floats();
    float[] r = new float[n];
    for (int i = 0; i < n; i++) {
      r[i] = (float) apply(op, tanhGelu, v[i]);
    }
    return floats(x.dtype(), x.shape(), r);
  }

  private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
  private static final double SQRT_HALF = Math.sqrt(0.5);

  private static double apply(Op op, boolean tanhGelu, double x) {
    return switch (op) {
      case NEG -> -x;
      case EXP -> Math.exp(x);
      case LOG -> Math.log(x);
      case SQRT -> Math.sqrt(x);
      case ABS -> Math.abs(x);
      case TANH -> Math.tanh(x);
      case SIGMOID -> sigmoid(x);
      case RELU -> x > 0 ? x : (x == x ? 0.0 : x);
      case ERF -> SpecialFunctions.erf(x);
      case SILU -> x * sigmoid(x);
      case GELU ->
          tanhGelu
              ? 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
              : 0.5
                  * x
                  * SpecialFunctions.erfc(
                      -x * SQRT_HALF); // = 0.5x(1 + erf(x/sqrt 2)), exact in the tail
      default -> throw new IllegalStateException(op.text());
    };
  }

  private static double sigmoid(double x) {
    if (x >= 0) {
      return 1.0 / (1.0 + Math.exp(-x));
    }
    double e = Math.exp(x);
    return e / (1.0 + e);
  }

  static Tensor where(Tensor c, Tensor a, Tensor b) {
    long[] s = broadcastShapes("where", c.shape(), a.shape(), b.shape());
    int[] ic = broadcastMap(c.shape(), s);
    int[] ia = broadcastMap(a.shape(), s);
    int[] ib = broadcastMap(b.shape(), s);
    long[] cv = c.longs();
    int n = ic.length;
    if (a.isFloat()) {
      float[] x = a.floats();
      float[] y = b.floats();
      float[] r = new float[n];
      for (int i = 0; i < n; i++) {
        r[i] = cv[ic[i]] != 0 ? x[ia[i]] : y[ib[i]];
      }
      return Tensor.ofFloats(a.dtype(), s, r);
    }
    long[] x = a.longs();
    long[] y = b.longs();
    long[] r = new long[n];
    for (int i = 0; i < n; i++) {
      r[i] = cv[ic[i]] != 0 ? x[ia[i]] : y[ib[i]];
    }
    return Tensor.ofLongs(a.dtype(), s, r);
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

  // ---------------------------------------------------------------- reductions

  static Tensor reduce(Op op, Tensor x, int axis, boolean keep) {
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
    if (len == 0 && n > 0 && op != Op.REDUCE_SUM && op != Op.REDUCE_MEAN) {
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
            if (v > bv || (Double.isNaN(v) && !Double.isNaN(bv))) {
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
          double acc =
              op == Op.REDUCE_MAX
                  ? Double.NEGATIVE_INFINITY
                  : op == Op.REDUCE_MIN ? Double.POSITIVE_INFINITY : 0.0;
          for (int k = 0; k < len; k++) {
            double e = v[base + k * inner];
            acc =
                switch (op) {
                  case REDUCE_MAX -> Math.max(acc, e);
                  case REDUCE_MIN -> Math.min(acc, e);
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
        long acc = op == Op.REDUCE_MAX ? Long.MIN_VALUE : op == Op.REDUCE_MIN ? Long.MAX_VALUE : 0;
        for (int k = 0; k < len; k++) {
          long e = v[base + k * inner];
          acc =
              switch (op) {
                case REDUCE_MAX -> Math.max(acc, e);
                case REDUCE_MIN -> Math.min(acc, e);
                default -> acc + e;
              };
        }
        r[o * inner + i] = acc;
      }
    }
    return longs(x.dtype(), os, r);
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
        r = new float[n];
        for (int i = 0; i < n; i++) {
          r[i] = (float) v[i]; // long to float directly, no double rounding
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
