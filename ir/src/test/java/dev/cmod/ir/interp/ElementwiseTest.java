package dev.cmod.ir.interp;

import static dev.cmod.ir.interp.T.bool;
import static dev.cmod.ir.interp.T.close;
import static dev.cmod.ir.interp.T.exact;
import static dev.cmod.ir.interp.T.f;
import static dev.cmod.ir.interp.T.i64;
import static dev.cmod.ir.interp.T.run;
import static dev.cmod.ir.interp.T.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import org.junit.jupiter.api.Test;

class ElementwiseTest {
  // a is [2, 3], b is [3]: b broadcasts over the rows
  private final Tensor a = f(s(2, 3), 1, 2, 3, 4, 5, 6);
  private final Tensor b = f(s(3), 2, 4, 0.5f);

  @Test
  void addSubMulDivBroadcast() {
    close(s(2, 3), new float[] {3, 6, 3.5f, 6, 9, 6.5f}, run(Op.ADD, Attrs.NONE, a, b), 0);
    close(s(2, 3), new float[] {-1, -2, 2.5f, 2, 1, 5.5f}, run(Op.SUB, Attrs.NONE, a, b), 0);
    close(s(2, 3), new float[] {2, 8, 1.5f, 8, 20, 3}, run(Op.MUL, Attrs.NONE, a, b), 0);
    close(s(2, 3), new float[] {0.5f, 0.5f, 6, 2, 1.25f, 12}, run(Op.DIV, Attrs.NONE, a, b), 0);
  }

  @Test
  void broadcastBothWays() {
    Tensor col = f(s(2, 1), 10, 20);
    Tensor row = f(s(1, 3), 1, 2, 3);
    close(s(2, 3), new float[] {11, 12, 13, 21, 22, 23}, run(Op.ADD, Attrs.NONE, col, row), 0);
    Tensor scalar = f(s(), 100);
    close(s(2, 1), new float[] {110, 120}, run(Op.ADD, Attrs.NONE, col, scalar), 0);
  }

  /**
   * add, sub and mul of same-shaped operands, or of one and a single element on either side, take a
   * loop without index maps; each element must be what the broadcasting loop gives: the double
   * result rounded once (0.1f + 0.2f and its f16 rounding are not what a float sum gives).
   */
  @Test
  void denseAndScalarOperandsMatchTheBroadcastingLoop() {
    Tensor x = f(s(2, 2), 0.1f, -3.7f, 1e-8f, 65504f);
    Tensor y = f(s(2, 2), 0.2f, 1.3f, 1f, 0.5f);
    Tensor one = f(s(1, 1), 0.3f);
    for (Op op : new Op[] {Op.ADD, Op.SUB, Op.MUL}) {
      for (Tensor[] pair : new Tensor[][] {{x, y}, {x, one}, {one, y}}) {
        Tensor got = run(op, Attrs.NONE, pair[0], pair[1]);
        float[] want = new float[4];
        for (int i = 0; i < 4; i++) {
          double u = pair[0].size() == 1 ? pair[0].floats()[0] : pair[0].floats()[i];
          double v = pair[1].size() == 1 ? pair[1].floats()[0] : pair[1].floats()[i];
          want[i] = (float) (op == Op.ADD ? u + v : op == Op.SUB ? u - v : u * v);
        }
        close(s(2, 2), want, got, 0);
      }
    }
    Tensor h = Tensor.ofFloats(DType.F16, new long[] {2}, new float[] {1f, 2048f});
    Tensor sum =
        run(Op.ADD, Attrs.NONE, h, Tensor.ofFloats(DType.F16, new long[] {}, new float[] {1f}));
    assertEquals(DType.F16, sum.dtype());
    close(s(2), new float[] {2f, 2048f}, sum, 0); // 2049 rounds to the f16 value 2048
  }

  @Test
  void powMaximumMinimum() {
    close(
        s(2, 3),
        new float[] {1, 16, (float) Math.sqrt(3), 16, 625, (float) Math.sqrt(6)},
        run(Op.POW, Attrs.NONE, a, b),
        1e-7);
    close(s(2, 3), new float[] {2, 4, 3, 4, 5, 6}, run(Op.MAXIMUM, Attrs.NONE, a, b), 0);
    close(s(2, 3), new float[] {1, 2, 0.5f, 2, 4, 0.5f}, run(Op.MINIMUM, Attrs.NONE, a, b), 0);
    Tensor nan = f(s(1), Float.NaN);
    assertTrue(Float.isNaN(run(Op.MAXIMUM, Attrs.NONE, nan, f(s(1), 1)).floats()[0]));
  }

  @Test
  void roundTakesHalvesToEvenAndFloorCeilSignAreExact() {
    Tensor x = f(s(7), -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.6f);
    close(s(7), new float[] {-2, -2, -0f, 0, 2, 2, 3}, run(Op.ROUND, Attrs.NONE, x), 0);
    close(s(7), new float[] {-3, -2, -1, 0, 1, 2, 2}, run(Op.FLOOR, Attrs.NONE, x), 0);
    close(s(7), new float[] {-2, -1, -0f, 1, 2, 3, 3}, run(Op.CEIL, Attrs.NONE, x), 0);
    close(s(7), new float[] {-1, -1, -1, 1, 1, 1, 1}, run(Op.SIGN, Attrs.NONE, x), 0);
    exact(s(3), new long[] {-1, 0, 1}, run(Op.SIGN, Attrs.NONE, i64(s(3), -4, 0, 9)));
  }

  @Test
  void modFollowsTheDivisorUnlessFmod() {
    Tensor x = i64(s(4), 7, -7, 7, -7);
    Tensor y = i64(s(4), 3, 3, -3, -3);
    // Python's %: the divisor's sign
    exact(s(4), new long[] {1, 2, -2, -1}, run(Op.MOD, Attrs.NONE, x, y));
    // C's fmod: the dividend's sign
    exact(s(4), new long[] {1, -1, 1, -1}, run(Op.MOD, Attrs.of("fmod", true), x, y));
    close(
        s(2),
        new float[] {-1.5f, 1.5f},
        run(Op.MOD, Attrs.of("fmod", true), f(s(2), -7.5f, 7.5f), f(s(2), 2, -2)),
        0);
    assertThrows(
        InterpreterException.class, () -> run(Op.MOD, Attrs.NONE, i64(s(1), 1), i64(s(1), 0)));
  }

  @Test
  void inverseHyperbolicsKeepTheirDigitsAtTheEdges() {
    // asinh(1e-10) = 1e-10 - 1e-30/6 ...; acosh(1 + 1e-7) = sqrt(2e-7) (1 - 1e-7/12 ...)
    assertEquals(1e-10, SpecialFunctions.asinh(1e-10), 1e-25);
    assertEquals(-Math.log(2 + Math.sqrt(5)), SpecialFunctions.asinh(-2), 1e-15);
    double t = (1 + 1e-7) - 1;
    assertEquals(Math.sqrt(2 * t) * (1 - t / 12), SpecialFunctions.acosh(1 + t), 1e-18);
    assertEquals(Math.log(1e200) + Math.log(2), SpecialFunctions.acosh(1e200), 1e-12);
    assertTrue(Double.isNaN(SpecialFunctions.acosh(0.5)));
    assertEquals(0.5 * Math.log(3), SpecialFunctions.atanh(0.5), 1e-15);
    assertEquals(Double.POSITIVE_INFINITY, SpecialFunctions.atanh(1));
    assertTrue(Double.isNaN(SpecialFunctions.atanh(1.5)));
  }

  @Test
  void logicAndPredicatesGiveBool() {
    Tensor p = bool(s(4), 1, 1, 0, 0);
    Tensor q = bool(s(4), 1, 0, 1, 0);
    exact(s(4), new long[] {1, 0, 0, 0}, run(Op.AND, Attrs.NONE, p, q));
    exact(s(4), new long[] {1, 1, 1, 0}, run(Op.OR, Attrs.NONE, p, q));
    exact(s(4), new long[] {0, 1, 1, 0}, run(Op.XOR, Attrs.NONE, p, q));
    exact(s(4), new long[] {0, 0, 1, 1}, run(Op.NOT, Attrs.NONE, p));
    Tensor v = f(s(4), Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 3);
    exact(s(4), new long[] {1, 0, 0, 0}, run(Op.IS_NAN, Attrs.NONE, v));
    exact(s(4), new long[] {0, 1, 1, 0}, run(Op.IS_INF, Attrs.NONE, v));
    exact(s(4), new long[] {0, 1, 0, 0}, run(Op.IS_INF, Attrs.of("detect_positive", false), v));
    assertEquals(DType.BOOL, run(Op.IS_NAN, Attrs.NONE, v).dtype());
    // 1e300 is finite in f64 though it overflows float
    Tensor d = Tensor.ofDoubles(s(2), new double[] {1e300, Double.NEGATIVE_INFINITY});
    exact(s(2), new long[] {0, 1}, run(Op.IS_INF, Attrs.NONE, d));
  }

  @Test
  void integerArithmeticTruncatesDivisionTowardZero() {
    Tensor x = i64(s(4), 7, -7, 7, -7);
    Tensor y = i64(s(4), 2, 2, -2, -2);
    exact(s(4), new long[] {3, -3, -3, 3}, run(Op.DIV, Attrs.NONE, x, y));
    exact(s(4), new long[] {9, -5, 5, -9}, run(Op.ADD, Attrs.NONE, x, y));
    exact(s(4), new long[] {14, -14, -14, 14}, run(Op.MUL, Attrs.NONE, x, y));
    exact(s(4), new long[] {49, 49, 0, 0}, run(Op.POW, Attrs.NONE, x, y));
    exact(s(4), new long[] {7, 2, 7, -2}, run(Op.MAXIMUM, Attrs.NONE, x, y));
    InterpreterException e =
        assertThrows(InterpreterException.class, () -> run(Op.DIV, Attrs.NONE, x, i64(s(1), 0)));
    assertTrue(e.getMessage().contains("division by zero"), e.getMessage());
  }

  @Test
  void int32Wraps() {
    Tensor x = Tensor.ofLongs(DType.I32, s(1), new long[] {Integer.MAX_VALUE});
    Tensor y = Tensor.ofLongs(DType.I32, s(1), new long[] {1});
    Tensor r = run(Op.ADD, Attrs.NONE, x, y);
    assertEquals(DType.I32, r.dtype());
    assertEquals(Integer.MIN_VALUE, r.longs()[0]);
  }

  @Test
  void comparisonsGiveBool() {
    Tensor x = f(s(3), 1, 2, 3);
    Tensor y = f(s(3), 2, 2, 2);
    Tensor lt = run(Op.LESS, Attrs.NONE, x, y);
    assertEquals(DType.BOOL, lt.dtype());
    exact(s(3), new long[] {1, 0, 0}, lt);
    exact(s(3), new long[] {1, 1, 0}, run(Op.LESS_EQUAL, Attrs.NONE, x, y));
    exact(s(3), new long[] {0, 0, 1}, run(Op.GREATER, Attrs.NONE, x, y));
    exact(s(3), new long[] {0, 1, 1}, run(Op.GREATER_EQUAL, Attrs.NONE, x, y));
    exact(s(3), new long[] {0, 1, 0}, run(Op.EQUAL, Attrs.NONE, x, y));
    exact(s(3), new long[] {1, 0, 1}, run(Op.NOT_EQUAL, Attrs.NONE, x, y));
    exact(
        s(2, 3),
        new long[] {1, 1, 1, 0, 0, 0},
        run(Op.LESS, Attrs.NONE, i64(s(2, 1), 1, 5), i64(s(3), 2, 3, 4)));
    Tensor nan = f(s(1), Float.NaN);
    exact(s(1), new long[] {0}, run(Op.EQUAL, Attrs.NONE, nan, nan));
    exact(s(1), new long[] {1}, run(Op.NOT_EQUAL, Attrs.NONE, nan, nan));
  }

  private static float[] map(float[] in, java.util.function.DoubleUnaryOperator fn) {
    float[] out = new float[in.length];
    for (int i = 0; i < in.length; i++) {
      out[i] = (float) fn.applyAsDouble(in[i]);
    }
    return out;
  }

  @Test
  void unaryMath() {
    float[] v = {-2, -0.5f, 0, 0.5f, 2};
    Tensor x = f(s(5), v);
    close(s(5), new float[] {2, 0.5f, 0, -0.5f, -2}, run(Op.NEG, Attrs.NONE, x), 0);
    close(s(5), new float[] {2, 0.5f, 0, 0.5f, 2}, run(Op.ABS, Attrs.NONE, x), 0);
    close(s(5), new float[] {0, 0, 0, 0.5f, 2}, run(Op.RELU, Attrs.NONE, x), 0);
    close(
        s(5),
        new float[] {0.13533528f, 0.60653066f, 1, 1.6487213f, 7.389056f},
        run(Op.EXP, Attrs.NONE, x),
        1e-7);
    close(
        s(5),
        new float[] {-0.96402758f, -0.46211716f, 0, 0.46211716f, 0.96402758f},
        run(Op.TANH, Attrs.NONE, x),
        1e-7);
    close(
        s(5),
        new float[] {0.11920292f, 0.37754067f, 0.5f, 0.62245933f, 0.88079708f},
        run(Op.SIGMOID, Attrs.NONE, x),
        1e-7);
    close(
        s(5),
        new float[] {-0.23840584f, -0.18877033f, 0, 0.31122967f, 1.76159416f},
        run(Op.SILU, Attrs.NONE, x),
        1e-7);
    close(
        s(5),
        new float[] {-0.99532227f, -0.52049988f, 0, 0.52049988f, 0.99532227f},
        run(Op.ERF, Attrs.NONE, x),
        1e-7);
    Tensor p = f(s(3), 0.25f, 1, 4);
    close(s(3), new float[] {0.5f, 1, 2}, run(Op.SQRT, Attrs.NONE, p), 0);
    close(
        s(3),
        new float[] {(float) Math.log(0.25), 0, (float) Math.log(4)},
        run(Op.LOG, Attrs.NONE, p),
        1e-7);
    exact(s(3), new long[] {3, 0, 4}, run(Op.RELU, Attrs.NONE, i64(s(3), 3, -2, 4)));
    exact(s(3), new long[] {-3, 2, -4}, run(Op.NEG, Attrs.NONE, i64(s(3), 3, -2, 4)));
    exact(s(3), new long[] {3, 2, 4}, run(Op.ABS, Attrs.NONE, i64(s(3), 3, -2, 4)));
  }

  @Test
  void geluExactAndTanh() {
    float[] v = {-3, -1, 0, 1, 3};
    Tensor x = f(s(5), v);
    // exact values 0.5 x (1 + erf(x / sqrt 2)) from known erf(1/sqrt2)=0.6826894921,
    // erf(3/sqrt2)=0.9973002039
    close(
        s(5),
        new double[] {
          -0.5 * 3 * (1 - 0.9973002039367398),
          -0.5 * (1 - 0.6826894921370859),
          0,
          0.5 * (1 + 0.6826894921370859),
          0.5 * 3 * (1 + 0.9973002039367398)
        },
        run(Op.GELU, Attrs.of("approx", "none"), x),
        1e-7);
    close(
        s(5),
        map(v, t -> 0.5 * t * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (t + 0.044715 * t * t * t)))),
        run(Op.GELU, Attrs.of("approx", "tanh"), x),
        1e-7);
  }

  @Test
  void whereBroadcasts() {
    Tensor c = bool(s(2, 1), 1, 0);
    Tensor x = f(s(3), 1, 2, 3);
    Tensor y = f(s(2, 3), 10, 20, 30, 40, 50, 60);
    close(s(2, 3), new float[] {1, 2, 3, 40, 50, 60}, run(Op.WHERE, Attrs.NONE, c, x, y), 0);
  }

  @Test
  void casts() {
    Tensor x = f(s(5), -2.7f, -0.5f, 0, 0.5f, 2.7f);
    exact(s(5), new long[] {-2, 0, 0, 0, 2}, run(Op.CAST, Attrs.of("to", DType.I64), x));
    Tensor toBool = run(Op.CAST, Attrs.of("to", DType.BOOL), x);
    assertEquals(DType.BOOL, toBool.dtype());
    exact(s(5), new long[] {1, 1, 0, 1, 1}, toBool);
    Tensor back = run(Op.CAST, Attrs.of("to", DType.F32), bool(s(3), 1, 0, 1));
    close(s(3), new float[] {1, 0, 1}, back, 0);
    close(s(2), new float[] {3, -4}, run(Op.CAST, Attrs.of("to", DType.F32), i64(s(2), 3, -4)), 0);
    exact(
        s(3), new long[] {1, 0, 1}, run(Op.CAST, Attrs.of("to", DType.BOOL), i64(s(3), 5, 0, -1)));
    Tensor half = run(Op.CAST, Attrs.of("to", DType.F16), f(s(2), 0.1f, 70000f));
    assertEquals(DType.F16, half.dtype());
    assertEquals(0.0999755859375f, half.floats()[0]);
    assertEquals(Float.POSITIVE_INFINITY, half.floats()[1]);
  }
}
