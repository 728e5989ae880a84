package dev.cmod.onnx;

import static dev.cmod.onnx.CaseBuilder.dims;
import static dev.cmod.onnx.TestSupport.bools;
import static dev.cmod.onnx.TestSupport.longs;
import static dev.cmod.onnx.TestSupport.shape;
import static dev.cmod.onnx.TestSupport.smallInts;
import static dev.cmod.onnx.TestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.onnx.emit.LoweringTable;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongBinaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * One or more small graphs per IR operator, emitted and run on ORT CPU with seeded random (or
 * literal) inputs, then compared with values computed in the test, by hand or by the plain-Java
 * loops of {@link Hand} (every case, every output), and separately with the reference interpreter.
 */
class OpLoweringTest {

  /** A named case exercising {@code op}. */
  record Case(String name, Op op, Function<CaseBuilder, CaseBuilder> build) {}

  private static final List<Case> CASES = new ArrayList<>();

  private static void add(String name, Op op, Function<CaseBuilder, CaseBuilder> build) {
    CASES.add(new Case(name, op, build));
  }

  private static Attrs attrs(Object... kv) {
    return Attrs.of(kv);
  }

  /** The comparison an operator computes, for the expected values. */
  private static Hand.Cmp cmp(Op op) {
    return switch (op) {
      case LESS -> (p, q) -> p < q;
      case LESS_EQUAL -> (p, q) -> p <= q;
      case GREATER -> (p, q) -> p > q;
      case GREATER_EQUAL -> (p, q) -> p >= q;
      case EQUAL -> (p, q) -> p == q;
      case NOT_EQUAL -> (p, q) -> p != q;
      default -> throw new IllegalArgumentException(op.toString());
    };
  }

  /** The function a float unary operator computes, for the expected values. */
  private static java.util.function.DoubleUnaryOperator unaryFn(Op op) {
    return switch (op) {
      case NEG -> v -> -v;
      case EXP -> Math::exp;
      case ABS -> Math::abs;
      case TANH -> Math::tanh;
      case SIGMOID -> Hand::sigmoid;
      case RELU -> v -> Math.max(0, v);
      case ERF -> Hand::erf;
      case GELU -> Hand::gelu;
      case SILU -> v -> v * Hand.sigmoid(v);
      case LOG -> Math::log;
      case SQRT -> Math::sqrt;
      case FLOOR -> Math::floor;
      case CEIL -> Math::ceil;
      case SIGN -> Math::signum;
      case RECIPROCAL -> v -> 1 / v;
      case SIN -> Math::sin;
      case COS -> Math::cos;
      case TAN -> Math::tan;
      case ASIN -> Math::asin;
      case ACOS -> Math::acos;
      case ATAN -> Math::atan;
      case SINH -> Math::sinh;
      case COSH -> Math::cosh;
      // the inverse hyperbolics by their textbook logarithms
      case ASINH -> v -> Math.log(v + Math.sqrt(v * v + 1));
      case ACOSH -> v -> Math.log(v + Math.sqrt(v * v - 1));
      case ATANH -> v -> 0.5 * Math.log((1 + v) / (1 - v));
      default -> throw new IllegalArgumentException(op.toString());
    };
  }

  static {
    // ------------------------------------------------------------ elementwise binary
    add(
        "add_param_broadcast",
        Op.ADD,
        b -> {
          Tensor x = uniform(b.rnd, -2, 2, 2, 3, 4);
          Tensor y = uniform(b.rnd, -2, 2, 4);
          float[] want = new float[24];
          for (int i = 0; i < 24; i++) {
            want[i] = x.floats()[i] + y.floats()[i % 4];
          }
          return b.out("y", b.op(Op.ADD, b.in("x", x), b.param("bias", y)))
              .expect("y", Tensor.ofFloats(shape(2, 3, 4), want));
        });
    add(
        "add_i64",
        Op.ADD,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -9, 9, 3, 4);
          Tensor y = longs(b.rnd, DType.I64, -9, 9, 4);
          return b.out("y", b.op(Op.ADD, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.binaryLong(x, y, Long::sum));
        });
    add(
        "sub",
        Op.SUB,
        b -> {
          Tensor x = uniform(b.rnd, -2, 2, 2, 3, 4);
          Tensor y = uniform(b.rnd, -2, 2, 3, 1);
          return b.out("y", b.op(Op.SUB, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.binary(x, y, (p, q) -> p - q));
        });
    add(
        "mul",
        Op.MUL,
        b -> {
          Tensor x = uniform(b.rnd, -2, 2, 2, 3, 4);
          Tensor y = uniform(b.rnd, -2, 2, 1, 4);
          return b.out("y", b.op(Op.MUL, b.in("a", x), b.constant(y)))
              .expect("y", Hand.binary(x, y, (p, q) -> p * q));
        });
    add(
        "div",
        Op.DIV,
        b -> {
          Tensor x = uniform(b.rnd, -2, 2, 2, 3, 4);
          Tensor y = uniform(b.rnd, 0.5f, 2, 3, 4);
          return b.out("y", b.op(Op.DIV, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.binary(x, y, (p, q) -> p / q));
        });
    add(
        "div_i64_truncates",
        Op.DIV,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.DIV,
                        b.in("a", Tensor.ofLongs(shape(4), new long[] {-7, 7, -8, 9})),
                        b.in("b", Tensor.ofLongs(shape(4), new long[] {2, -2, 3, 3}))))
                .expect("y", Tensor.ofLongs(shape(4), new long[] {-3, -3, -2, 3})));
    add(
        "pow",
        Op.POW,
        b -> {
          Tensor x = uniform(b.rnd, 0.5f, 2, 2, 3);
          Tensor y = uniform(b.rnd, -2, 2, 2, 3);
          return b.out("y", b.op(Op.POW, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.binary(x, y, Math::pow));
        });
    add(
        "maximum",
        Op.MAXIMUM,
        b -> {
          Tensor x = uniform(b.rnd, -2, 2, 2, 3);
          Tensor y = uniform(b.rnd, -2, 2, 3);
          return b.out("y", b.op(Op.MAXIMUM, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.binary(x, y, Math::max));
        });
    add(
        "minimum",
        Op.MINIMUM,
        b -> {
          Tensor x = uniform(b.rnd, -2, 2, 2, 3);
          Tensor y = uniform(b.rnd, -2, 2, 3);
          return b.out("y", b.op(Op.MINIMUM, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.binary(x, y, Math::min));
        });
    for (Op cmp :
        List.of(Op.LESS, Op.LESS_EQUAL, Op.GREATER, Op.GREATER_EQUAL, Op.EQUAL, Op.NOT_EQUAL)) {
      add(
          cmp.text(),
          cmp,
          b -> {
            Tensor x = smallInts(b.rnd, 3, 4, 5);
            Tensor y = smallInts(b.rnd, 3, 5);
            return b.out("y", b.op(cmp, b.in("a", x), b.in("b", y)))
                .expect("y", Hand.compare(x, y, cmp(cmp)));
          });
    }
    add(
        "not_equal_by_hand",
        Op.NOT_EQUAL,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.NOT_EQUAL,
                        b.in("a", Tensor.ofFloats(shape(3), new float[] {1, 2, 3})),
                        b.in("b", Tensor.ofFloats(shape(3), new float[] {1, 5, 3}))))
                .expect("y", Tensor.ofLongs(DType.BOOL, shape(3), new long[] {0, 1, 0})));
    add(
        "equal_i64",
        Op.EQUAL,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, 0, 3, 6);
          Tensor y = longs(b.rnd, DType.I64, 0, 3, 6);
          return b.out("y", b.op(Op.EQUAL, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.compare(x, y, cmp(Op.EQUAL)));
        });

    // ------------------------------------------------------------ elementwise unary
    for (Op u :
        List.of(Op.NEG, Op.EXP, Op.ABS, Op.TANH, Op.SIGMOID, Op.RELU, Op.ERF, Op.GELU, Op.SILU)) {
      add(
          u.text(),
          u,
          b -> {
            Tensor x = uniform(b.rnd, -3, 3, 2, 3, 4);
            return b.out("y", b.op(u, b.in("x", x))).expect("y", Hand.unary(x, unaryFn(u)));
          });
    }
    add(
        "log",
        Op.LOG,
        b -> {
          Tensor x = uniform(b.rnd, 0.1f, 5, 2, 3, 4);
          return b.out("y", b.op(Op.LOG, b.in("x", x))).expect("y", Hand.unary(x, Math::log));
        });
    add(
        "sqrt",
        Op.SQRT,
        b -> {
          Tensor x = uniform(b.rnd, 0, 5, 2, 3, 4);
          return b.out("y", b.op(Op.SQRT, b.in("x", x))).expect("y", Hand.unary(x, Math::sqrt));
        });
    add(
        "relu_i64",
        Op.RELU,
        b ->
            b.out(
                    "y",
                    b.op(Op.RELU, b.in("x", Tensor.ofLongs(shape(4), new long[] {-2, 0, 3, -1}))))
                .expect("y", Tensor.ofLongs(shape(4), new long[] {0, 0, 3, 0})));
    add(
        "neg_i64",
        Op.NEG,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -5, 5, 7);
          return b.out("y", b.op(Op.NEG, b.in("x", x))).expect("y", Hand.unaryLong(x, v -> -v));
        });
    add(
        "abs_i64",
        Op.ABS,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -5, 5, 7);
          return b.out("y", b.op(Op.ABS, b.in("x", x))).expect("y", Hand.unaryLong(x, Math::abs));
        });
    add(
        "gelu_tanh",
        Op.GELU,
        b -> {
          Tensor x = uniform(b.rnd, -3, 3, 2, 8);
          return b.out("y", b.op(Op.GELU, attrs("approx", "tanh"), b.in("x", x)))
              .expect("y", Hand.unary(x, Hand::geluTanh));
        });
    add(
        "silu_by_hand",
        Op.SILU,
        b -> {
          Tensor x = uniform(b.rnd, -4, 4, 10);
          float[] w = new float[10];
          for (int i = 0; i < 10; i++) {
            double v = x.floats()[i];
            w[i] = (float) (v / (1 + Math.exp(-v)));
          }
          return b.out("y", b.op(Op.SILU, b.in("x", x))).expect("y", Tensor.ofFloats(shape(10), w));
        });
    add(
        "where",
        Op.WHERE,
        b -> {
          Tensor c = bools(b.rnd, 2, 3);
          Tensor x = uniform(b.rnd, -2, 2, 2, 3);
          Tensor y = uniform(b.rnd, -2, 2, 3);
          return b.out("y", b.op(Op.WHERE, b.in("c", c), b.in("a", x), b.in("b", y)))
              .expect("y", Hand.where(c, x, y));
        });

    // ------------------------------------------------------------ rounding, trigonometry, logic
    List<Object[]> ranges =
        List.of(
            new Object[] {Op.FLOOR, -3f, 3f},
            new Object[] {Op.CEIL, -3f, 3f},
            new Object[] {Op.SIGN, -3f, 3f},
            new Object[] {Op.RECIPROCAL, 0.5f, 3f},
            new Object[] {Op.SIN, -4f, 4f},
            new Object[] {Op.COS, -4f, 4f},
            new Object[] {Op.TAN, -1.2f, 1.2f},
            new Object[] {Op.ASIN, -0.95f, 0.95f},
            new Object[] {Op.ACOS, -0.95f, 0.95f},
            new Object[] {Op.ATAN, -4f, 4f},
            new Object[] {Op.SINH, -3f, 3f},
            new Object[] {Op.COSH, -3f, 3f},
            new Object[] {Op.ASINH, -4f, 4f},
            new Object[] {Op.ACOSH, 1f, 5f},
            new Object[] {Op.ATANH, -0.9f, 0.9f});
    for (Object[] r : ranges) {
      Op u = (Op) r[0];
      add(
          u.text(),
          u,
          b -> {
            Tensor x = uniform(b.rnd, (float) r[1], (float) r[2], 2, 3, 4);
            return b.out("y", b.op(u, b.in("x", x))).expect("y", Hand.unary(x, unaryFn(u)));
          });
    }
    add(
        "round_halves_to_even",
        Op.ROUND,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.ROUND,
                        b.in(
                            "x",
                            Tensor.ofFloats(
                                shape(9),
                                new float[] {
                                  -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 0.4f, 0.6f, -0.6f
                                }))))
                .expect(
                    "y", Tensor.ofFloats(shape(9), new float[] {-2, -2, -0f, 0, 2, 2, 0, 1, -1})));
    add(
        "sign_i64",
        Op.SIGN,
        b ->
            b.out(
                    "y",
                    b.op(Op.SIGN, b.in("x", Tensor.ofLongs(shape(4), new long[] {-7, 0, 3, -1}))))
                .expect("y", Tensor.ofLongs(shape(4), new long[] {-1, 0, 1, -1})));
    add(
        "not",
        Op.NOT,
        b -> {
          Tensor x = bools(b.rnd, 3, 4);
          return b.out("y", b.op(Op.NOT, b.in("x", x))).expect("y", Hand.unaryLong(x, v -> 1 - v));
        });
    float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1, 0};
    add(
        "is_nan",
        Op.IS_NAN,
        b ->
            b.out("y", b.op(Op.IS_NAN, b.in("x", Tensor.ofFloats(shape(5), special))))
                .expect("y", Tensor.ofLongs(DType.BOOL, shape(5), new long[] {1, 0, 0, 0, 0})));
    add(
        "is_inf",
        Op.IS_INF,
        b ->
            b.out("y", b.op(Op.IS_INF, b.in("x", Tensor.ofFloats(shape(5), special))))
                .expect("y", Tensor.ofLongs(DType.BOOL, shape(5), new long[] {0, 1, 1, 0, 0})));
    add(
        "is_inf_positive_only",
        Op.IS_INF,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.IS_INF,
                        attrs("detect_negative", false),
                        b.in("x", Tensor.ofFloats(shape(5), special))))
                .expect("y", Tensor.ofLongs(DType.BOOL, shape(5), new long[] {0, 1, 0, 0, 0})));
    for (Op logic : List.of(Op.AND, Op.OR, Op.XOR)) {
      add(
          logic.text(),
          logic,
          b -> {
            Tensor x = bools(b.rnd, 3, 4);
            Tensor y = bools(b.rnd, 4);
            LongBinaryOperator f =
                logic == Op.AND
                    ? (p, q) -> p & q
                    : logic == Op.OR ? (p, q) -> p | q : (p, q) -> p ^ q;
            return b.out("y", b.op(logic, b.in("a", x), b.in("b", y)))
                .expect("y", Hand.binaryLong(x, y, f));
          });
    }
    Tensor dividends = Tensor.ofLongs(shape(5), new long[] {-7, 7, -7, 7, 5});
    Tensor divisors = Tensor.ofLongs(shape(5), new long[] {3, 3, -3, -3, 5});
    add(
        "mod_i64_sign_of_divisor",
        Op.MOD,
        b ->
            b.out("y", b.op(Op.MOD, b.in("a", dividends), b.in("b", divisors)))
                .expect("y", Tensor.ofLongs(shape(5), new long[] {2, 1, -1, -2, 0})));
    add(
        "mod_i64_fmod_sign_of_dividend",
        Op.MOD,
        b ->
            b.out("y", b.op(Op.MOD, attrs("fmod", true), b.in("a", dividends), b.in("b", divisors)))
                .expect("y", Tensor.ofLongs(shape(5), new long[] {-1, 1, -1, 1, 0})));
    add(
        "mod_f32_fmod",
        Op.MOD,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.MOD,
                        attrs("fmod", true),
                        b.in("a", Tensor.ofFloats(shape(3), new float[] {-7.5f, 7.5f, 5.25f})),
                        b.in("b", Tensor.ofFloats(shape(3), new float[] {2, -2, 1.5f}))))
                .expect("y", Tensor.ofFloats(shape(3), new float[] {-1.5f, 1.5f, 0.75f})));

    // ------------------------------------------------------------ matmul
    add(
        "matmul",
        Op.MATMUL,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3, 4);
          Tensor w = uniform(b.rnd, -1, 1, 4, 5);
          return b.out("y", b.op(Op.MATMUL, b.in("a", x), b.param("w", w)))
              .expect("y", Hand.matmul(x, w));
        });
    add(
        "matmul_by_hand",
        Op.MATMUL,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.MATMUL,
                        b.in("a", Tensor.ofFloats(shape(2, 3), new float[] {1, 2, 3, 4, 5, 6})),
                        b.in("b", Tensor.ofFloats(shape(3, 2), new float[] {7, 8, 9, 10, 11, 12}))))
                .expect("y", Tensor.ofFloats(shape(2, 2), new float[] {58, 64, 139, 154})));
    add(
        "matmul_vec",
        Op.MATMUL,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 4);
          Tensor y = uniform(b.rnd, -1, 1, 4, 5);
          return b.out("y", b.op(Op.MATMUL, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.matmul(x, y));
        });
    add(
        "matmul_batch_broadcast",
        Op.MATMUL,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 1, 3, 4);
          Tensor y = uniform(b.rnd, -1, 1, 3, 4, 2);
          return b.out("y", b.op(Op.MATMUL, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.matmul(x, y));
        });

    // ------------------------------------------------------------ shape
    add(
        "reshape",
        Op.RESHAPE,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3, 4);
          return b.out("y", b.op(Op.RESHAPE, attrs("dims", dims(6, 4)), b.in("x", x)))
              .expect("y", Tensor.ofFloats(shape(6, 4), x.floats()));
        });
    add(
        "reshape_to_scalar",
        Op.RESHAPE,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 1, 1);
          return b.out("y", b.op(Op.RESHAPE, attrs("dims", dims()), b.in("x", x)))
              .expect("y", Tensor.ofFloats(shape(), x.floats()));
        });
    add(
        "reshape_zero_size",
        Op.RESHAPE,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.RESHAPE,
                        attrs("dims", dims(3, 0)),
                        b.in("x", Tensor.zeros(DType.F32, shape(0, 3)))))
                .expect("y", Tensor.ofFloats(shape(3, 0), new float[0])));
    add(
        "transpose",
        Op.TRANSPOSE,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3, 4);
          return b.out("y", b.op(Op.TRANSPOSE, attrs("perm", new long[] {2, 0, 1}), b.in("x", x)))
              .expect("y", Hand.transpose(x, 2, 0, 1));
        });
    add(
        "transpose_by_hand",
        Op.TRANSPOSE,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.TRANSPOSE,
                        attrs("perm", new long[] {1, 0}),
                        b.in("x", Tensor.ofFloats(shape(2, 3), new float[] {1, 2, 3, 4, 5, 6}))))
                .expect("y", Tensor.ofFloats(shape(3, 2), new float[] {1, 4, 2, 5, 3, 6})));
    add(
        "concat",
        Op.CONCAT,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 1, 3);
          Tensor y = uniform(b.rnd, -1, 1, 2, 2, 3);
          Tensor z = uniform(b.rnd, -1, 1, 2, 3, 3);
          return b.out(
                  "y", b.op(Op.CONCAT, attrs("axis", 1), b.in("a", x), b.in("b", y), b.constant(z)))
              .expect("y", Hand.concat(1, x, y, z));
        });
    add(
        "split",
        Op.SPLIT,
        b -> {
          Tensor x = Tensor.ofFloats(shape(2, 4), new float[] {0, 1, 2, 3, 4, 5, 6, 7});
          Node n = b.node(Op.SPLIT, attrs("axis", 1, "sizes", dims(1, 3)), b.in("x", x));
          return b.out("first", n.out(0))
              .out("rest", n.out(1))
              .expect("first", Tensor.ofFloats(shape(2, 1), new float[] {0, 4}))
              .expect("rest", Tensor.ofFloats(shape(2, 3), new float[] {1, 2, 3, 5, 6, 7}));
        });
    add(
        "slice",
        Op.SLICE,
        b -> {
          Tensor x = Tensor.ofFloats(shape(2, 4), new float[] {0, 1, 2, 3, 4, 5, 6, 7});
          return b.out(
                  "y",
                  b.op(
                      Op.SLICE,
                      attrs("axis", 1, "start", dims(1).get(0), "end", dims(3).get(0)),
                      b.in("x", x)))
              .expect("y", Tensor.ofFloats(shape(2, 2), new float[] {1, 2, 5, 6}));
        });
    add(
        "unsqueeze",
        Op.UNSQUEEZE,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3);
          return b.out("y", b.op(Op.UNSQUEEZE, attrs("axis", 1), b.in("x", x)))
              .expect("y", Tensor.ofFloats(shape(2, 1, 3), x.floats()));
        });
    add(
        "squeeze",
        Op.SQUEEZE,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 1, 3);
          return b.out("y", b.op(Op.SQUEEZE, attrs("axis", 1), b.in("x", x)))
              .expect("y", Tensor.ofFloats(shape(2, 3), x.floats()));
        });
    add(
        "broadcast",
        Op.BROADCAST,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 3, 1);
          return b.out("y", b.op(Op.BROADCAST, attrs("dims", dims(2, 3, 4)), b.in("x", x)))
              .expect("y", Hand.binary(x, Tensor.zeros(DType.F32, shape(2, 3, 4)), (p, q) -> p));
        });

    // ------------------------------------------------------------ reductions
    add(
        "reduce_sum",
        Op.REDUCE_SUM,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3, 4);
          return b.out("y", b.op(Op.REDUCE_SUM, attrs("axis", 1), b.in("x", x)))
              .expect("y", Hand.reduce(x, 1, false, Hand.Reduce.SUM));
        });
    add(
        "reduce_sum_by_hand",
        Op.REDUCE_SUM,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.REDUCE_SUM,
                        attrs("axis", 1),
                        b.in("x", Tensor.ofFloats(shape(2, 3), new float[] {1, 2, 3, 4, 5, 6}))))
                .expect("y", Tensor.ofFloats(shape(2), new float[] {6, 15})));
    add(
        "reduce_sum_keep_i64",
        Op.REDUCE_SUM,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -5, 5, 3, 4);
          return b.out("y", b.op(Op.REDUCE_SUM, attrs("axis", 0, "keep", true), b.in("x", x)))
              .expect("y", Hand.reduce(x, 0, true, Hand.Reduce.SUM));
        });
    add(
        "reduce_mean_keep",
        Op.REDUCE_MEAN,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3, 4);
          return b.out("y", b.op(Op.REDUCE_MEAN, attrs("axis", 2, "keep", true), b.in("x", x)))
              .expect("y", Hand.reduce(x, 2, true, Hand.Reduce.MEAN));
        });
    add(
        "reduce_max",
        Op.REDUCE_MAX,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3, 4);
          return b.out("y", b.op(Op.REDUCE_MAX, attrs("axis", 0), b.in("x", x)))
              .expect("y", Hand.reduce(x, 0, false, Hand.Reduce.MAX));
        });
    add(
        "reduce_min",
        Op.REDUCE_MIN,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3, 4);
          return b.out("y", b.op(Op.REDUCE_MIN, attrs("axis", 2), b.in("x", x)))
              .expect("y", Hand.reduce(x, 2, false, Hand.Reduce.MIN));
        });
    add(
        "argmax",
        Op.ARGMAX,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 5, 3);
          return b.out("y", b.op(Op.ARGMAX, attrs("axis", 1), b.in("x", x)))
              .expect("y", Hand.reduce(x, 1, false, Hand.Reduce.ARGMAX));
        });
    add(
        "argmax_keep",
        Op.ARGMAX,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 5, 3);
          return b.out("y", b.op(Op.ARGMAX, attrs("axis", 2, "keep", true), b.in("x", x)))
              .expect("y", Hand.reduce(x, 2, true, Hand.Reduce.ARGMAX));
        });

    add(
        "reduce_prod_by_hand",
        Op.REDUCE_PROD,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.REDUCE_PROD,
                        attrs("axis", 0),
                        b.in(
                            "x", Tensor.ofFloats(shape(2, 3), new float[] {1, 2, 3, 4, -5, 0.5f}))))
                .expect("y", Tensor.ofFloats(shape(3), new float[] {4, -10, 1.5f})));
    add(
        "reduce_prod_keep_i64",
        Op.REDUCE_PROD,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.REDUCE_PROD,
                        attrs("axis", 1, "keep", true),
                        b.in("x", Tensor.ofLongs(shape(2, 3), new long[] {1, 2, 3, -4, 5, 6}))))
                .expect("y", Tensor.ofLongs(shape(2, 1), new long[] {6, -120})));
    add(
        "argmax_last_of_ties",
        Op.ARGMAX,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.ARGMAX,
                        attrs("axis", 1, "last", true),
                        b.in(
                            "x",
                            Tensor.ofFloats(shape(2, 4), new float[] {3, 1, 3, 2, 0, 5, 5, 5}))))
                .expect("y", Tensor.ofLongs(shape(2), new long[] {2, 3})));
    Tensor runs = Tensor.ofFloats(shape(2, 3), new float[] {1, 2, 3, 4, 5, 6});
    add(
        "cumsum",
        Op.CUMSUM,
        b ->
            b.out("y", b.op(Op.CUMSUM, attrs("axis", 1), b.in("x", runs)))
                .expect("y", Tensor.ofFloats(shape(2, 3), new float[] {1, 3, 6, 4, 9, 15})));
    add(
        "cumsum_exclusive_reverse",
        Op.CUMSUM,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.CUMSUM,
                        attrs("axis", 1, "exclusive", true, "reverse", true),
                        b.in("x", runs)))
                .expect("y", Tensor.ofFloats(shape(2, 3), new float[] {5, 3, 0, 11, 6, 0})));
    add(
        "cumsum_axis0_i64",
        Op.CUMSUM,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.CUMSUM,
                        attrs("axis", 0, "exclusive", true),
                        b.in("x", Tensor.ofLongs(shape(2, 2), new long[] {1, 2, 3, 4}))))
                .expect("y", Tensor.ofLongs(shape(2, 2), new long[] {0, 0, 1, 2})));

    // ------------------------------------------------------------ neural
    add(
        "softmax",
        Op.SOFTMAX,
        b -> {
          Tensor x = uniform(b.rnd, -3, 3, 2, 5, 3);
          return b.out("y", b.op(Op.SOFTMAX, attrs("axis", 1), b.in("x", x)))
              .expect("y", Hand.softmax(x, 1, false));
        });
    add(
        "log_softmax",
        Op.LOG_SOFTMAX,
        b -> {
          Tensor x = uniform(b.rnd, -3, 3, 2, 3, 5);
          return b.out("y", b.op(Op.LOG_SOFTMAX, attrs("axis", 2), b.in("x", x)))
              .expect("y", Hand.softmax(x, 2, true));
        });
    add(
        "layer_norm",
        Op.LAYER_NORM,
        b -> {
          Tensor x = uniform(b.rnd, -2, 2, 2, 3, 8);
          Tensor gamma = uniform(b.rnd, 0.5f, 1.5f, 8);
          Tensor beta = uniform(b.rnd, -0.5f, 0.5f, 8);
          return b.out(
                  "y",
                  b.op(
                      Op.LAYER_NORM,
                      attrs("eps", 1e-5),
                      b.in("x", x),
                      b.param("ln.gamma", gamma),
                      b.param("ln.beta", beta)))
              .expect("y", Hand.layerNorm(x, gamma, beta, 1e-5));
        });
    add(
        "rms_norm",
        Op.RMS_NORM,
        b -> {
          Tensor x = uniform(b.rnd, -2, 2, 2, 3, 8);
          Tensor gamma = uniform(b.rnd, 0.5f, 1.5f, 8);
          return b.out(
                  "y",
                  b.op(Op.RMS_NORM, attrs("eps", 1e-6), b.in("x", x), b.param("rms.gamma", gamma)))
              .expect("y", Hand.rmsNorm(x, gamma, 1e-6));
        });
    add(
        "attention",
        Op.ATTENTION,
        b -> {
          Tensor q = uniform(b.rnd, -1, 1, 2, 3, 4);
          Tensor k = uniform(b.rnd, -1, 1, 2, 5, 4);
          Tensor v = uniform(b.rnd, -1, 1, 2, 5, 6);
          return b.out("y", b.op(Op.ATTENTION, b.in("q", q), b.in("k", k), b.in("v", v)))
              .expect("y", attentionByHand(q, k, v, null, false));
        });
    add(
        "attention_causal",
        Op.ATTENTION,
        b -> {
          Tensor q = uniform(b.rnd, -1, 1, 2, 2, 4, 8);
          Tensor k = uniform(b.rnd, -1, 1, 2, 2, 4, 8);
          Tensor v = uniform(b.rnd, -1, 1, 2, 2, 4, 8);
          return b.out(
                  "y",
                  b.op(
                      Op.ATTENTION,
                      attrs("causal", true),
                      b.in("q", q),
                      b.in("k", k),
                      b.in("v", v)))
              .expect("y", attentionByHand(q, k, v, null, true));
        });
    add(
        "attention_bool_mask",
        Op.ATTENTION,
        b -> {
          Tensor q = uniform(b.rnd, -1, 1, 2, 3, 4);
          Tensor k = uniform(b.rnd, -1, 1, 2, 5, 4);
          Tensor v = uniform(b.rnd, -1, 1, 2, 5, 6);
          long[] m = new long[15];
          for (int i = 0; i < 15; i++) {
            m[i] = (i % 5 == 0 || b.rnd.nextBoolean()) ? 1 : 0; // key 0 always visible
          }
          Tensor mask = Tensor.ofLongs(DType.BOOL, shape(3, 5), m);
          return b.out(
                  "y",
                  b.op(Op.ATTENTION, b.in("q", q), b.in("k", k), b.in("v", v), b.in("mask", mask)))
              .expect("y", attentionByHand(q, k, v, mask, false));
        });
    add(
        "attention_float_mask",
        Op.ATTENTION,
        b -> {
          Tensor q = uniform(b.rnd, -1, 1, 2, 3, 4);
          Tensor k = uniform(b.rnd, -1, 1, 2, 5, 4);
          Tensor v = uniform(b.rnd, -1, 1, 2, 5, 6);
          Tensor bias = uniform(b.rnd, -2, 0, 2, 3, 5);
          return b.out(
                  "y",
                  b.op(Op.ATTENTION, b.in("q", q), b.in("k", k), b.in("v", v), b.in("bias", bias)))
              .expect("y", attentionByHand(q, k, v, null, false, bias));
        });
    add(
        "conv1d_bias_stride_pad",
        Op.CONV1D,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3, 10);
          Tensor w = uniform(b.rnd, -1, 1, 4, 3, 3);
          Tensor bias = uniform(b.rnd, -1, 1, 4);
          return b.out(
                  "y",
                  b.op(
                      Op.CONV1D,
                      attrs("stride", 2, "padding", 1),
                      b.in("x", x),
                      b.param("conv.weight", w),
                      b.param("conv.bias", bias)))
              .expect("y", Hand.conv(x, w, bias, 2, 1, 1));
        });
    add(
        "conv1d_by_hand",
        Op.CONV1D,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.CONV1D,
                        attrs("stride", 1, "padding", 0),
                        b.in("x", Tensor.ofFloats(shape(1, 1, 4), new float[] {1, 2, 3, 4})),
                        b.param(
                            "conv.weight", Tensor.ofFloats(shape(1, 1, 2), new float[] {1, -1}))))
                .expect("y", Tensor.ofFloats(shape(1, 1, 3), new float[] {-1, -1, -1})));
    add(
        "conv2d",
        Op.CONV2D,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 1, 2, 7, 6);
          Tensor w = uniform(b.rnd, -1, 1, 3, 2, 3, 3);
          return b.out(
                  "y",
                  b.op(
                      Op.CONV2D,
                      attrs("stride", 1, "padding", 1),
                      b.in("x", x),
                      b.param("conv.weight", w)))
              .expect("y", Hand.conv(x, w, null, 1, 1, 2));
        });
    add(
        "conv_transpose_1d_stride_bias",
        Op.CONV_TRANSPOSE,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.CONV_TRANSPOSE,
                        attrs("strides", new long[] {2}),
                        b.in("x", Tensor.ofFloats(shape(1, 1, 3), new float[] {1, 2, 3})),
                        b.param("up.weight", Tensor.ofFloats(shape(1, 1, 2), new float[] {1, 10})),
                        b.param("up.bias", Tensor.ofFloats(shape(1), new float[] {0.5f}))))
                // each input cell spreads its kernel two cells on: 1 10 | 2 20 | 3 30
                .expect(
                    "y",
                    Tensor.ofFloats(
                        shape(1, 1, 6), new float[] {1.5f, 10.5f, 2.5f, 20.5f, 3.5f, 30.5f})));
    add(
        "conv_transpose_2d_pads_groups",
        Op.CONV_TRANSPOSE,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.CONV_TRANSPOSE,
                        attrs("pads", new long[] {1, 0, 0, 0}, "groups", 2),
                        b.in(
                            "x",
                            Tensor.ofFloats(
                                shape(1, 2, 2, 2), new float[] {1, 2, 3, 4, 1, 0, 0, 0})),
                        b.in(
                            "w",
                            Tensor.ofFloats(
                                shape(2, 1, 2, 2), new float[] {1, 1, 1, 1, 1, 2, 3, 4}))))
                // group 0: a 2x2 box over [[1 2] [3 4]] is [[1 3 2] [4 10 6] [3 7 4]], its first
                // row cut by the pad; group 1: the kernel itself at the corner
                .expect(
                    "y",
                    Tensor.ofFloats(
                        shape(1, 2, 2, 3), new float[] {4, 10, 6, 3, 7, 4, 3, 4, 0, 0, 0, 0})));
    add(
        "conv2d_bias_stride",
        Op.CONV2D,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 2, 7, 6);
          Tensor w = uniform(b.rnd, -1, 1, 3, 2, 2, 2);
          Tensor bias = uniform(b.rnd, -1, 1, 3);
          return b.out(
                  "y",
                  b.op(
                      Op.CONV2D,
                      attrs("stride", 2, "padding", 0),
                      b.in("x", x),
                      b.param("conv.weight", w),
                      b.param("conv.bias", bias)))
              .expect("y", Hand.conv(x, w, bias, 2, 0, 2));
        });
    add(
        "avg_pool2d",
        Op.AVG_POOL2D,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 1, 2, 6, 6);
          return b.out("y", b.op(Op.AVG_POOL2D, attrs("kernel", 2, "stride", 2), b.in("x", x)))
              .expect("y", Hand.pool2d(x, 2, 2, false));
        });
    add(
        "max_pool2d",
        Op.MAX_POOL2D,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 2, 5, 6);
          return b.out("y", b.op(Op.MAX_POOL2D, attrs("kernel", 3, "stride", 1), b.in("x", x)))
              .expect("y", Hand.pool2d(x, 3, 1, true));
        });
    add(
        "max_pool2d_by_hand",
        Op.MAX_POOL2D,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.MAX_POOL2D,
                        attrs("kernel", 2, "stride", 2),
                        b.in(
                            "x",
                            Tensor.ofFloats(
                                shape(1, 1, 2, 4), new float[] {1, 5, -2, 0, 3, 4, 7, -1}))))
                .expect("y", Tensor.ofFloats(shape(1, 1, 1, 2), new float[] {5, 7})));
    add(
        "upsample2d",
        Op.UPSAMPLE,
        b -> {
          Tensor x = Tensor.ofFloats(shape(1, 1, 2, 3), new float[] {1, 2, 3, 4, 5, 6});
          float[] w = new float[4 * 6];
          for (int h = 0; h < 4; h++) {
            for (int c = 0; c < 6; c++) {
              w[h * 6 + c] = x.floats()[(h / 2) * 3 + c / 2];
            }
          }
          return b.out("y", b.op(Op.UPSAMPLE, attrs("factor", 2), b.in("x", x)))
              .expect("y", Tensor.ofFloats(shape(1, 1, 4, 6), w));
        });
    add(
        "upsample1d",
        Op.UPSAMPLE,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 1, 2, 5);
          float[] w = new float[2 * 15];
          for (int i = 0; i < w.length; i++) {
            w[i] = x.floats()[(i / 15) * 5 + (i % 15) / 3];
          }
          return b.out("y", b.op(Op.UPSAMPLE, attrs("factor", 3), b.in("x", x)))
              .expect("y", Tensor.ofFloats(shape(1, 2, 15), w));
        });
    add(
        "patchify",
        Op.PATCHIFY,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 3, 8, 8);
          return b.out("y", b.op(Op.PATCHIFY, attrs("patch", 4), b.in("x", x)))
              .expect("y", patchifyByHand(x, 4));
        });
    add(
        "take",
        Op.TAKE,
        b -> {
          Tensor table = uniform(b.rnd, -1, 1, 10, 4);
          Tensor ids = longs(b.rnd, DType.I64, 0, 10, 2, 3);
          return b.out("y", b.op(Op.TAKE, b.param("emb.weight", table), b.in("ids", ids)))
              .expect("y", Hand.take(table, ids));
        });
    add(
        "one_hot",
        Op.ONE_HOT,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.ONE_HOT,
                        attrs("n", 4),
                        b.in("ids", Tensor.ofLongs(shape(5), new long[] {2, 0, 3, -1, 4}))))
                .expect(
                    "y",
                    Tensor.ofFloats(
                        shape(5, 4),
                        new float[] {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})));
    add(
        "one_hot_i32",
        Op.ONE_HOT,
        b -> {
          Tensor ids = longs(b.rnd, DType.I32, 0, 6, 2, 3);
          return b.out("y", b.op(Op.ONE_HOT, attrs("n", 6), b.in("ids", ids)))
              .expect("y", Hand.oneHot(ids, 6));
        });
    add(
        "cosine_broadcast",
        Op.COSINE,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 2, 1, 4);
          Tensor y = uniform(b.rnd, -1, 1, 3, 4);
          return b.out("y", b.op(Op.COSINE, attrs("axis", 2), b.in("a", x), b.in("b", y)))
              .expect("y", cosineByHand(x, y, 2));
        });
    add(
        "cosine",
        Op.COSINE,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 5, 3);
          Tensor y = uniform(b.rnd, -1, 1, 5, 3);
          return b.out("y", b.op(Op.COSINE, attrs("axis", 0), b.in("a", x), b.in("b", y)))
              .expect("y", cosineByHand(x, y, 0));
        });
    add(
        "cosine_by_hand",
        Op.COSINE,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.COSINE,
                        attrs("axis", 0),
                        b.in("a", Tensor.ofFloats(shape(2), new float[] {3, 4})),
                        b.in("b", Tensor.ofFloats(shape(2), new float[] {4, 3}))))
                .expect("y", Tensor.ofFloats(shape(), new float[] {24f / 25})));
    add(
        "topk",
        Op.TOPK,
        b -> {
          Tensor x = Tensor.ofFloats(shape(2, 4), new float[] {0.5f, 3, -1, 2, 9, 8, 7, 10});
          Node n = b.node(Op.TOPK, attrs("k", 2, "axis", 1), b.in("x", x));
          return b.out("values", n.out(0))
              .out("indices", n.out(1))
              .expect("values", Tensor.ofFloats(shape(2, 2), new float[] {3, 2, 10, 9}))
              .expect("indices", Tensor.ofLongs(shape(2, 2), new long[] {1, 3, 3, 0}));
        });
    add(
        "nonzero",
        Op.NONZERO,
        b -> {
          Tensor mask = Tensor.ofLongs(DType.BOOL, shape(6), new long[] {0, 1, 1, 0, 0, 1});
          return b.out("at", b.op(Op.NONZERO, attrs("count", "n_e"), b.in("mask", mask)))
              .expect("at", Tensor.ofLongs(shape(3), new long[] {1, 2, 5}));
        });
    add(
        "nonzero_none",
        Op.NONZERO,
        b -> {
          Tensor mask = Tensor.ofLongs(DType.BOOL, shape(3), new long[] {0, 0, 0});
          return b.out("at", b.op(Op.NONZERO, attrs("count", "n_e"), b.in("mask", mask)))
              .expect("at", Tensor.ofLongs(shape(0), new long[0]));
        });
    add(
        "scatter_add",
        Op.SCATTER_ADD,
        b -> {
          Tensor data = Tensor.ofFloats(shape(3, 2), new float[] {1, 2, 3, 4, 5, 6});
          Tensor ids = Tensor.ofLongs(shape(2), new long[] {2, 0});
          Tensor up = Tensor.ofFloats(shape(2, 2), new float[] {10, 20, 30, 40});
          return b.out(
                  "y", b.op(Op.SCATTER_ADD, b.in("data", data), b.in("ids", ids), b.in("up", up)))
              .expect("y", Tensor.ofFloats(shape(3, 2), new float[] {31, 42, 3, 4, 15, 26}));
        });
    add(
        "topk_random",
        Op.TOPK,
        b -> {
          Tensor x = uniform(b.rnd, -1, 1, 6, 4);
          Node n = b.node(Op.TOPK, attrs("k", 3, "axis", 0), b.in("x", x));
          Tensor[] want = Hand.topk(x, 3, 0);
          return b.out("values", n.out(0))
              .out("indices", n.out(1))
              .expect("values", want[0])
              .expect("indices", want[1]);
        });
    add(
        "cast_f32_i64",
        Op.CAST,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.CAST,
                        attrs("to", DType.I64),
                        b.in(
                            "x",
                            Tensor.ofFloats(shape(4), new float[] {-2.7f, 2.7f, 0.2f, -0.2f}))))
                .expect("y", Tensor.ofLongs(shape(4), new long[] {-2, 2, 0, 0})));
    add(
        "cast_i64_f32",
        Op.CAST,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -9, 9, 5);
          return b.out("y", b.op(Op.CAST, attrs("to", DType.F32), b.in("x", x)))
              .expect("y", longsAsFloats(x));
        });
    add(
        "cast_bool_f32",
        Op.CAST,
        b -> {
          Tensor x = bools(b.rnd, 5);
          return b.out("y", b.op(Op.CAST, attrs("to", DType.F32), b.in("x", x)))
              .expect("y", longsAsFloats(x));
        });
    add(
        "cast_f32_bool",
        Op.CAST,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.CAST,
                        attrs("to", DType.BOOL),
                        b.in("x", Tensor.ofFloats(shape(3), new float[] {0, -1.5f, 2}))))
                .expect("y", Tensor.ofLongs(DType.BOOL, shape(3), new long[] {0, 1, 1})));
    add(
        "cast_f32_f16",
        Op.CAST,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.CAST,
                        attrs("to", DType.F16),
                        b.in("x", Tensor.ofFloats(shape(4), new float[] {1, 0.5f, -2, 1024}))))
                .expect(
                    "y", Tensor.ofFloats(DType.F16, shape(4), new float[] {1, 0.5f, -2, 1024})));
  }

  static {
    // ------------------------------------------------------------ integer, bool and 16-bit
    // variants
    add(
        "mul_i32",
        Op.MUL,
        b -> {
          Tensor x = longs(b.rnd, DType.I32, -9, 9, 3, 4);
          Tensor y = longs(b.rnd, DType.I32, -9, 9, 4);
          return b.out("y", b.op(Op.MUL, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.binaryLong(x, y, (p, q) -> p * q));
        });
    add(
        "sub_i64",
        Op.SUB,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -9, 9, 3, 4);
          Tensor y = longs(b.rnd, DType.I64, -9, 9, 3, 1);
          return b.out("y", b.op(Op.SUB, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.binaryLong(x, y, (p, q) -> p - q));
        });
    add(
        "pow_i64",
        Op.POW,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -4, 4, 6);
          Tensor y = longs(b.rnd, DType.I64, 0, 4, 6);
          return b.out("y", b.op(Op.POW, b.in("a", x), b.in("b", y)))
              .expect(
                  "y",
                  Hand.binaryLong(
                      x,
                      y,
                      (p, q) -> {
                        long r = 1;
                        for (long i = 0; i < q; i++) {
                          r *= p;
                        }
                        return r;
                      }));
        });
    add(
        "maximum_i64",
        Op.MAXIMUM,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -9, 9, 2, 3);
          Tensor y = longs(b.rnd, DType.I64, -9, 9, 3);
          return b.out("y", b.op(Op.MAXIMUM, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.binaryLong(x, y, Math::max));
        });
    add(
        "less_i32",
        Op.LESS,
        b -> {
          Tensor x = longs(b.rnd, DType.I32, 0, 3, 2, 3);
          Tensor y = longs(b.rnd, DType.I32, 0, 3, 3);
          return b.out("y", b.op(Op.LESS, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.compare(x, y, cmp(Op.LESS)));
        });
    add(
        "equal_bool",
        Op.EQUAL,
        b -> {
          Tensor x = bools(b.rnd, 6);
          Tensor y = bools(b.rnd, 6);
          return b.out("y", b.op(Op.EQUAL, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.compare(x, y, cmp(Op.EQUAL)));
        });
    add(
        "where_i64",
        Op.WHERE,
        b -> {
          Tensor c = bools(b.rnd, 2, 3);
          Tensor x = longs(b.rnd, DType.I64, -9, 9, 2, 3);
          Tensor y = longs(b.rnd, DType.I64, -9, 9, 1);
          return b.out("y", b.op(Op.WHERE, b.in("c", c), b.in("a", x), b.in("b", y)))
              .expect("y", Hand.where(c, x, y));
        });
    add(
        "concat_bool",
        Op.CONCAT,
        b -> {
          Tensor x = bools(b.rnd, 2, 3);
          Tensor y = bools(b.rnd, 1, 3);
          return b.out("y", b.op(Op.CONCAT, attrs("axis", 0), b.in("a", x), b.in("b", y)))
              .expect("y", Hand.concat(0, x, y));
        });
    add(
        "transpose_i64",
        Op.TRANSPOSE,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -9, 9, 2, 3);
          return b.out("y", b.op(Op.TRANSPOSE, attrs("perm", new long[] {1, 0}), b.in("x", x)))
              .expect("y", Hand.transpose(x, 1, 0));
        });
    add(
        "reduce_max_i64",
        Op.REDUCE_MAX,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -9, 9, 2, 5);
          return b.out("y", b.op(Op.REDUCE_MAX, attrs("axis", 1), b.in("x", x)))
              .expect("y", Hand.reduce(x, 1, false, Hand.Reduce.MAX));
        });
    add(
        "reduce_min_i64",
        Op.REDUCE_MIN,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -9, 9, 2, 5);
          return b.out("y", b.op(Op.REDUCE_MIN, attrs("axis", 1), b.in("x", x)))
              .expect("y", Hand.reduce(x, 1, false, Hand.Reduce.MIN));
        });
    add(
        "argmax_i64",
        Op.ARGMAX,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -99, 99, 2, 5);
          return b.out("y", b.op(Op.ARGMAX, attrs("axis", 1), b.in("x", x)))
              .expect("y", Hand.reduce(x, 1, false, Hand.Reduce.ARGMAX));
        });
    add(
        "topk_i64",
        Op.TOPK,
        b -> {
          Node n =
              b.node(
                  Op.TOPK,
                  attrs("k", 2, "axis", 1),
                  b.in("x", Tensor.ofLongs(shape(2, 3), new long[] {5, -1, 7, 0, 9, 3})));
          return b.out("values", n.out(0))
              .out("indices", n.out(1))
              .expect("values", Tensor.ofLongs(shape(2, 2), new long[] {7, 5, 9, 3}))
              .expect("indices", Tensor.ofLongs(shape(2, 2), new long[] {2, 0, 1, 2}));
        });
    add(
        "gather_elements_axis1_negative",
        Op.GATHER_ELEMENTS,
        b -> {
          Tensor data = Tensor.ofFloats(shape(2, 3), new float[] {1, 2, 3, 4, 5, 6});
          Tensor ids = Tensor.ofLongs(shape(2, 2), new long[] {2, 0, -1, 1});
          return b.out(
                  "y", b.op(Op.GATHER_ELEMENTS, attrs("axis", 1), b.in("d", data), b.in("i", ids)))
              .expect("y", Tensor.ofFloats(shape(2, 2), new float[] {3, 1, 6, 5}));
        });
    add(
        "scatter_elements_add_duplicates",
        Op.SCATTER_ELEMENTS,
        b -> {
          Tensor data = Tensor.ofFloats(shape(3, 2), new float[] {1, 2, 3, 4, 5, 6});
          Tensor ids = Tensor.ofLongs(shape(2, 2), new long[] {0, 2, 0, -1});
          Tensor up = Tensor.ofFloats(shape(2, 2), new float[] {10, 20, 30, 40});
          return b.out(
                  "y",
                  b.op(
                      Op.SCATTER_ELEMENTS,
                      attrs("axis", 0, "reduction", "add"),
                      b.in("d", data),
                      b.in("i", ids),
                      b.in("u", up)))
              .expect("y", Tensor.ofFloats(shape(3, 2), new float[] {41, 2, 3, 4, 5, 66}));
        });
    add(
        "scatter_elements_i64_replace",
        Op.SCATTER_ELEMENTS,
        b -> {
          Tensor data = Tensor.ofLongs(shape(2, 3), new long[] {1, 2, 3, 4, 5, 6});
          Tensor ids = Tensor.ofLongs(DType.I32, shape(2, 1), new long[] {2, 0});
          Tensor up = Tensor.ofLongs(shape(2, 1), new long[] {-7, -8});
          return b.out(
                  "y",
                  b.op(
                      Op.SCATTER_ELEMENTS,
                      attrs("axis", 1, "reduction", "none"),
                      b.in("d", data),
                      b.in("i", ids),
                      b.in("u", up)))
              .expect("y", Tensor.ofLongs(shape(2, 3), new long[] {1, 2, -7, -8, 5, 6}));
        });
    add(
        "take_i32_ids",
        Op.TAKE,
        b -> {
          Tensor table = longs(b.rnd, DType.I64, -9, 9, 5, 2);
          Tensor ids = longs(b.rnd, DType.I32, 0, 5, 4);
          return b.out("y", b.op(Op.TAKE, b.in("table", table), b.in("ids", ids)))
              .expect("y", Hand.take(table, ids));
        });
    add(
        "cast_i32_f32",
        Op.CAST,
        b -> {
          Tensor x = longs(b.rnd, DType.I32, -9, 9, 5);
          return b.out("y", b.op(Op.CAST, attrs("to", DType.F32), b.in("x", x)))
              .expect("y", longsAsFloats(x));
        });
    add(
        "cast_i64_i32",
        Op.CAST,
        b -> {
          Tensor x = longs(b.rnd, DType.I64, -9, 9, 5);
          return b.out("y", b.op(Op.CAST, attrs("to", DType.I32), b.in("x", x)))
              .expect("y", Tensor.ofLongs(DType.I32, x.shape(), x.longs()));
        });
    add(
        "cast_f32_bf16",
        Op.CAST,
        b -> {
          Tensor x = uniform(b.rnd, -3, 3, 5);
          float[] w = new float[5];
          for (int i = 0; i < 5; i++) {
            w[i] = Hand.bf16(x.floats()[i]);
          }
          return b.out("y", b.op(Op.CAST, attrs("to", DType.BF16), b.in("x", x)))
              .expect("y", Tensor.ofFloats(DType.BF16, shape(5), w));
        });
    add(
        "cast_f32_f16_rounds",
        Op.CAST,
        b -> {
          Tensor x = uniform(b.rnd, -3, 3, 7);
          float[] w = new float[7];
          for (int i = 0; i < 7; i++) {
            w[i] = Hand.f16(x.floats()[i]);
          }
          return b.out("y", b.op(Op.CAST, attrs("to", DType.F16), b.in("x", x)))
              .expect("y", Tensor.ofFloats(DType.F16, shape(7), w));
        });
    add(
        "add_f16",
        Op.ADD,
        b ->
            b.out(
                    "y",
                    b.op(
                        Op.ADD,
                        b.in("a", Tensor.ofFloats(DType.F16, shape(3), new float[] {1, 2.5f, -4})),
                        b.in(
                            "b",
                            Tensor.ofFloats(DType.F16, shape(3), new float[] {0.5f, 0.25f, 1}))))
                .expect("y", Tensor.ofFloats(DType.F16, shape(3), new float[] {1.5f, 2.75f, -3})));
    add(
        "matmul_f64",
        Op.MATMUL,
        b -> {
          Tensor x = Tensor.ofFloats(DType.F64, shape(2, 3), uniform(b.rnd, -1, 1, 6).floats());
          Tensor y = Tensor.ofFloats(DType.F64, shape(3, 2), uniform(b.rnd, -1, 1, 6).floats());
          return b.out("y", b.op(Op.MATMUL, b.in("a", x), b.in("b", y)))
              .expect("y", Hand.matmul(x, y));
        });
  }

  /** An integer or bool tensor's values as f32. */
  static Tensor longsAsFloats(Tensor x) {
    float[] f = new float[x.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = x.longs()[i];
    }
    return Tensor.ofFloats(x.shape(), f);
  }

  /** sum(a b) / max(|a| |b|, 1e-8) over {@code axis} after broadcasting a and b. */
  static Tensor cosineByHand(Tensor a, Tensor b, int axis) {
    long[] s = Hand.broadcast(a.shape(), b.shape());
    long[] os = Hand.reducedShape(s, axis, false);
    long[] kept = s.clone();
    kept[axis] = 1;
    float[] y = new float[Hand.numel(os)];
    for (int i = 0; i < y.length; i++) {
      int[] c = Hand.coords(i, kept);
      double dot = 0;
      double na = 0;
      double nb = 0;
      for (int k = 0; k < s[axis]; k++) {
        c[axis] = k;
        double p = a.get(Hand.at(c, a.shape()));
        double q = b.get(Hand.at(c, b.shape()));
        dot += p * q;
        na += p * p;
        nb += q * q;
      }
      y[i] = (float) (dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-8));
    }
    return Tensor.ofFloats(os, y);
  }

  /** softmax(q k^T / sqrt(E) masked) v in double precision; q, k, v of shape [..., L, E]. */
  static Tensor attentionByHand(Tensor q, Tensor k, Tensor v, Tensor boolMask, boolean causal) {
    return attentionByHand(q, k, v, boolMask, causal, null);
  }

  /**
   * {@link #attentionByHand(Tensor, Tensor, Tensor, Tensor, boolean)} plus an additive bias of
   * shape [Lq, Lk] or [..., Lq, Lk].
   */
  static Tensor attentionByHand(
      Tensor q, Tensor k, Tensor v, Tensor boolMask, boolean causal, Tensor floatBias) {
    int r = q.rank();
    int lq = (int) q.dim(r - 2);
    int lk = (int) k.dim(r - 2);
    int e = (int) q.dim(r - 1);
    int ev = (int) v.dim(r - 1);
    int batch = q.size() / (lq * e);
    long[] outShape = q.shape();
    outShape[r - 1] = ev;
    float[] out = new float[batch * lq * ev];
    for (int bi = 0; bi < batch; bi++) {
      for (int i = 0; i < lq; i++) {
        double[] s = new double[lk];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < lk; j++) {
          double dot = 0;
          for (int c = 0; c < e; c++) {
            dot += (double) q.floats()[(bi * lq + i) * e + c] * k.floats()[(bi * lk + j) * e + c];
          }
          s[j] = dot / Math.sqrt(e);
          if (floatBias != null) {
            s[j] += floatBias.get((floatBias.size() == lq * lk ? 0 : bi * lq * lk) + i * lk + j);
          }
          if ((causal && j > i) || (boolMask != null && boolMask.longs()[i * lk + j] == 0)) {
            s[j] = Double.NEGATIVE_INFINITY;
          }
          max = Math.max(max, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < lk; j++) {
          s[j] = Math.exp(s[j] - max);
          sum += s[j];
        }
        for (int c = 0; c < ev; c++) {
          double acc = 0;
          for (int j = 0; j < lk; j++) {
            acc += s[j] / sum * v.floats()[(bi * lk + j) * ev + c];
          }
          out[(bi * lq + i) * ev + c] = (float) acc;
        }
      }
    }
    return Tensor.ofFloats(outShape, out);
  }

  /** [B, C, H, W] -&gt; [B, (H/p)*(W/p), C*p*p] with features ordered (c, i, j). */
  static Tensor patchifyByHand(Tensor x, int p) {
    int bsz = (int) x.dim(0);
    int c = (int) x.dim(1);
    int h = (int) x.dim(2);
    int w = (int) x.dim(3);
    int np = (h / p) * (w / p);
    int f = c * p * p;
    float[] out = new float[bsz * np * f];
    for (int b = 0; b < bsz; b++) {
      for (int ph = 0; ph < h / p; ph++) {
        for (int pw = 0; pw < w / p; pw++) {
          for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < p; i++) {
              for (int j = 0; j < p; j++) {
                float val = x.floats()[((b * c + ci) * h + ph * p + i) * w + pw * p + j];
                out[(b * np + ph * (w / p) + pw) * f + ci * p * p + i * p + j] = val;
              }
            }
          }
        }
      }
    }
    return Tensor.ofFloats(new long[] {bsz, np, f}, out);
  }

  private static CaseBuilder build(Case c) {
    return c.build().apply(new CaseBuilder("case_" + c.name(), 1000L + c.name().hashCode()));
  }

  @Test
  void everyOperatorHasACase() {
    Set<Op> missing = EnumSet.allOf(Op.class);
    missing.removeAll(LoweringTable.notLowered().keySet());
    for (Case c : CASES) {
      missing.remove(c.op());
    }
    assertTrue(missing.isEmpty(), "operators without a lowering test: " + missing);
  }

  /**
   * Every case states the expected value of every output; none only compares ORT with the
   * interpreter.
   */
  @Test
  void everyCaseHasHandComputedExpectations() {
    List<String> without = new ArrayList<>();
    for (Case c : CASES) {
      CaseBuilder b = build(c);
      if (!b.expected.keySet().equals(b.g.outputs().keySet())) {
        without.add(
            c.name()
                + " (outputs "
                + b.g.outputs().keySet()
                + ", expected "
                + b.expected.keySet()
                + ")");
      }
    }
    assertTrue(
        without.isEmpty(), "cases without a hand-computed value for every output: " + without);
  }

  /**
   * Harness sanity: the comparison catches a value off by 1e-4 relative, and NaN matches NaN only
   * when asked.
   */
  @Test
  void theComparisonIsStrict() {
    Tensor want = Tensor.ofFloats(shape(3), new float[] {1, 2, Float.NaN});
    Tensor off = Tensor.ofFloats(shape(3), new float[] {1, 2.0002f, Float.NaN});
    Tensor same = Tensor.ofFloats(shape(3), new float[] {1, 2, Float.NaN});
    assertThrows(
        AssertionError.class, () -> TestSupport.assertCloseNaNsMatch(want, off, "off by 1e-4"));
    assertThrows(
        AssertionError.class, () -> TestSupport.assertClose(want, same, "NaN is not a value"));
    TestSupport.assertCloseNaNsMatch(want, same, "NaN expected explicitly");
    assertThrows(
        AssertionError.class,
        () ->
            TestSupport.assertCloseNaNsMatch(
                want,
                Tensor.ofFloats(shape(3), new float[] {1, 2, 0}),
                "a number where NaN is expected"));
  }

  /**
   * ONNX Runtime against the values computed in the test (CaseBuilder.expect, Hand), output by
   * output.
   */
  @TestFactory
  Stream<DynamicTest> matchesHandComputedValues() {
    return CASES.stream()
        .map(
            c ->
                DynamicTest.dynamicTest(
                    c.name(),
                    () -> {
                      CaseBuilder b = build(c);
                      assertEquals(
                          b.g.outputs().keySet(),
                          b.expected.keySet(),
                          c.name() + ": outputs with a hand-computed value");
                      Map<String, Tensor> got = TestSupport.runOrt(b.g, b.feeds);
                      for (Map.Entry<String, Tensor> e : b.expected.entrySet()) {
                        TestSupport.assertClose(
                            e.getValue(), got.get(e.getKey()), c.name() + " (by hand)");
                      }
                    }));
  }

  @TestFactory
  Stream<DynamicTest> matchesReferenceInterpreter() {
    return CASES.stream()
        .map(
            c ->
                DynamicTest.dynamicTest(
                    c.name(),
                    () -> {
                      CaseBuilder b = build(c);
                      Map<String, Tensor> got = TestSupport.runOrt(b.g, b.feeds);
                      Map<String, Tensor> want = TestSupport.reference(b.g, b.feeds);
                      TestSupport.assertAllClose(want, got, c.name() + " vs interpreter");
                    }));
  }
}
