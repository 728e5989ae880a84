package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.Buffers.broadcastMap;
import static dev.cmod.ir.interp.Buffers.broadcastShapes;
import static dev.cmod.ir.interp.Buffers.err;
import static dev.cmod.ir.interp.Buffers.floats;
import static dev.cmod.ir.interp.Buffers.longs;
import static dev.cmod.ir.interp.Buffers.one;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.ElementwiseOps;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.Arrays;
import java.util.Map;

/**
 * Kernels of the elementwise family: binary arithmetic, logic and comparisons with broadcasting,
 * the unary functions and predicates, and where, with ONNX's semantics (round halves to even, mod's
 * sign rules).
 */
final class ElementwiseKernels {
  private ElementwiseKernels() {}

  static void register(Map<Op, Kernel> t) {
    for (Op op : Op.values()) {
      if (op.isElementwiseBinary()) {
        t.put(op, (n, x, s) -> one(binary(op, x[0], x[1])));
      } else if (op.isElementwiseUnary()) {
        t.put(op, (n, x, s) -> one(unary(op, "none", x[0])));
      }
    }
    t.put(Op.GELU, (n, x, s) -> one(unary(Op.GELU, ElementwiseOps.APPROX.get(n.attrs()), x[0])));
    t.put(Op.MOD, (n, x, s) -> one(binary(Op.MOD, ElementwiseOps.FMOD.get(n.attrs()), x[0], x[1])));
    t.put(
        Op.IS_INF,
        (n, x, s) ->
            one(
                isInf(
                    x[0],
                    ElementwiseOps.DETECT_NEGATIVE.get(n.attrs()),
                    ElementwiseOps.DETECT_POSITIVE.get(n.attrs()))));
    t.put(Op.WHERE, (n, x, s) -> one(where(x[0], x[1], x[2])));
  }

  static Tensor binary(Op op, Tensor a, Tensor b) {
    return binary(op, false, a, b);
  }

  /** A binary op; {@code fmod} is mod's attribute (ignored by the others). */
  static Tensor binary(Op op, boolean fmod, Tensor a, Tensor b) {
    if (a.isFloat() != b.isFloat()) {
      throw new IllegalStateException(op.text() + ": operands " + a.dtype() + " and " + b.dtype());
    }
    long[] s = broadcastShapes(op.text(), a.shape(), b.shape());
    if (a.isFloat() && (op == Op.ADD || op == Op.SUB || op == Op.MUL)) {
      float[] r = dense(op, a, b, s);
      if (r != null) {
        return floats(a.dtype(), s, r);
      }
    }
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
        r[i] = (float) apply(op, (double) x[ia[i]], (double) y[ib[i]]);
      }
      return floats(a.dtype(), s, r);
    }
    long[] x = a.longs();
    long[] y = b.longs();
    long[] r = new long[n];
    for (int i = 0; i < n; i++) {
      r[i] = apply(op, fmod, x[ia[i]], y[ib[i]]);
    }
    return longs(a.dtype(), s, r);
  }

  /**
   * add, sub or mul of two float operands of the result's shape, or of one such and a single
   * element, without index maps (a merged d = 4096 weight has 16M elements, and its maps would cost
   * more than the arithmetic); null for any other broadcast. Each element is computed in double and
   * rounded once, exactly as the general loop does.
   */
  private static float[] dense(Op op, Tensor a, Tensor b, long[] s) {
    boolean fa = Arrays.equals(a.shape(), s);
    boolean fb = Arrays.equals(b.shape(), s);
    if (!(fa && (fb || b.size() == 1)) && !(fb && a.size() == 1)) {
      return null;
    }
    float[] x = a.floats();
    float[] y = b.floats();
    int n = fa ? x.length : y.length;
    float[] r = new float[n];
    if (fa && fb) {
      switch (op) {
        case ADD -> {
          for (int i = 0; i < n; i++) {
            r[i] = (float) ((double) x[i] + (double) y[i]);
          }
        }
        case SUB -> {
          for (int i = 0; i < n; i++) {
            r[i] = (float) ((double) x[i] - (double) y[i]);
          }
        }
        default -> {
          for (int i = 0; i < n; i++) {
            r[i] = (float) ((double) x[i] * (double) y[i]);
          }
        }
      }
      return r;
    }
    for (int i = 0; i < n; i++) {
      double u = fa ? x[i] : x[0];
      double v = fb ? y[i] : y[0];
      r[i] = (float) (op == Op.ADD ? u + v : op == Op.SUB ? u - v : u * v);
    }
    return r;
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
      case MOD -> x % y; // C's fmod (floating point requires fmod = 1)
      default -> throw new IllegalStateException(op.text());
    };
  }

  private static long apply(Op op, boolean fmod, long x, long y) {
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
      case MOD -> {
        if (y == 0) {
          throw err("mod: integer division by zero");
        }
        yield fmod ? x % y : Math.floorMod(x, y); // the dividend's sign, or the divisor's
      }
      case AND -> x & y;
      case OR -> x | y;
      case XOR -> x ^ y;
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
    if (op == Op.IS_NAN) {
      long[] r = new long[n];
      double[] v = x.doubles();
      for (int i = 0; i < n; i++) {
        r[i] = Double.isNaN(v[i]) ? 1 : 0;
      }
      return Tensor.ofLongs(DType.BOOL, x.shape(), r);
    }
    if (op == Op.IS_INF) {
      return isInf(x, true, true);
    }
    if (!x.isFloat()) {
      long[] v = x.longs();
      long[] r = new long[n];
      for (int i = 0; i < n; i++) {
        r[i] =
            switch (op) {
              case NEG -> -v[i];
              case ABS -> Math.abs(v[i]);
              case RELU -> Math.max(v[i], 0);
              case SIGN -> Long.signum(v[i]);
              case NOT -> 1 - v[i];
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
      case FLOOR -> Math.floor(x);
      case CEIL -> Math.ceil(x);
      case ROUND -> Math.rint(x); // halves to even
      case SIGN -> Math.signum(x);
      case RECIPROCAL -> 1 / x;
      case SIN -> Math.sin(x);
      case COS -> Math.cos(x);
      case TAN -> Math.tan(x);
      case ASIN -> Math.asin(x);
      case ACOS -> Math.acos(x);
      case ATAN -> Math.atan(x);
      case SINH -> Math.sinh(x);
      case COSH -> Math.cosh(x);
      case ASINH -> SpecialFunctions.asinh(x);
      case ACOSH -> SpecialFunctions.acosh(x);
      case ATANH -> SpecialFunctions.atanh(x);
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

  /** On an f64 tensor's exact values where it has them (a finite double may overflow float). */
  private static Tensor isInf(Tensor x, boolean negative, boolean positive) {
    double[] v = x.doubles();
    long[] r = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] =
          (negative && v[i] == Double.NEGATIVE_INFINITY)
                  || (positive && v[i] == Double.POSITIVE_INFINITY)
              ? 1
              : 0;
    }
    return Tensor.ofLongs(DType.BOOL, x.shape(), r);
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
}
