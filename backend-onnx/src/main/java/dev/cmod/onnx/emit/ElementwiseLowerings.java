package dev.cmod.onnx.emit;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.ElementwiseOps;
import dev.cmod.ir.type.DType;
import java.util.List;

/**
 * Lowerings of the elementwise operators: arithmetic, logic and comparisons (NumPy broadcasting, as
 * in ONNX), unary functions, predicates and activations, and select. Most are one ONNX operator of
 * the same name; the activations ONNX lacks at opset {@value dev.cmod.onnx.OnnxVersions#OPSET} are
 * composed.
 */
final class ElementwiseLowerings {
  private ElementwiseLowerings() {}

  static void register(LoweringTable.Registrar r) {
    r.put(Op.ADD, same("Add"));
    r.put(Op.SUB, same("Sub"));
    r.put(Op.MUL, same("Mul"));
    r.put(Op.DIV, same("Div"));
    r.put(Op.POW, same("Pow"));
    r.put(Op.MAXIMUM, same("Max"));
    r.put(Op.MINIMUM, same("Min"));
    r.put(
        Op.MOD,
        (cx, n, in, out) ->
            cx.node("Mod", in, out, Attr.i("fmod", ElementwiseOps.FMOD.get(n.attrs()) ? 1 : 0)));
    r.put(Op.AND, same("And"));
    r.put(Op.OR, same("Or"));
    r.put(Op.XOR, same("Xor"));
    r.put(Op.LESS, same("Less"));
    r.put(Op.LESS_EQUAL, same("LessOrEqual"));
    r.put(Op.GREATER, same("Greater"));
    r.put(Op.GREATER_EQUAL, same("GreaterOrEqual"));
    r.put(Op.EQUAL, same("Equal"));
    r.put(Op.NOT_EQUAL, (cx, n, in, out) -> cx.node("Not", List.of(cx.op("Equal", in)), out));
    r.put(Op.NEG, same("Neg"));
    r.put(Op.EXP, same("Exp"));
    r.put(Op.LOG, same("Log"));
    r.put(Op.SQRT, same("Sqrt"));
    r.put(Op.ABS, same("Abs"));
    r.put(Op.TANH, same("Tanh"));
    r.put(Op.SIGMOID, same("Sigmoid"));
    r.put(Op.RELU, ElementwiseLowerings::relu);
    r.put(Op.ERF, same("Erf"));
    r.put(Op.FLOOR, same("Floor"));
    r.put(Op.CEIL, same("Ceil"));
    r.put(Op.ROUND, same("Round"));
    r.put(Op.SIGN, same("Sign"));
    r.put(Op.RECIPROCAL, same("Reciprocal"));
    r.put(Op.SIN, same("Sin"));
    r.put(Op.COS, same("Cos"));
    r.put(Op.TAN, same("Tan"));
    r.put(Op.ASIN, same("Asin"));
    r.put(Op.ACOS, same("Acos"));
    r.put(Op.ATAN, same("Atan"));
    r.put(Op.SINH, same("Sinh"));
    r.put(Op.COSH, same("Cosh"));
    r.put(Op.ASINH, same("Asinh"));
    r.put(Op.ACOSH, same("Acosh"));
    r.put(Op.ATANH, same("Atanh"));
    r.put(Op.NOT, same("Not"));
    r.put(Op.IS_NAN, same("IsNaN"));
    r.put(
        Op.IS_INF,
        (cx, n, in, out) ->
            cx.node(
                "IsInf",
                in,
                out,
                Attr.i("detect_negative", ElementwiseOps.DETECT_NEGATIVE.get(n.attrs()) ? 1 : 0),
                Attr.i("detect_positive", ElementwiseOps.DETECT_POSITIVE.get(n.attrs()) ? 1 : 0)));
    r.put(Op.GELU, ElementwiseLowerings::gelu);
    r.put(
        Op.SILU,
        (cx, n, in, out) -> cx.node("Mul", List.of(in.get(0), cx.op("Sigmoid", in.get(0))), out));
    r.put(Op.WHERE, same("Where"));
  }

  /** An ONNX operator with the same operands and outputs as the IR node. */
  static OpLowering same(String opType) {
    return (cx, n, in, out) -> cx.node(opType, in, out);
  }

  /** Relu for floats; Max(x, 0) for integers, which ONNX's Relu does not take. */
  private static void relu(LoweringContext cx, Node n, List<String> in, List<String> out) {
    DType dt = n.type().dtype();
    if (dt.isFloat()) {
      cx.node("Relu", in, out);
    } else {
      cx.node("Max", List.of(in.get(0), cx.scalar(0, dt)), out);
    }
  }

  /** Whether a gelu node is the tanh approximation (attribute approx "tanh" or true). */
  static boolean tanhGelu(Node n) {
    Object approx = n.attrs().asMap().get("approx");
    return "tanh".equals(approx) || Boolean.TRUE.equals(approx);
  }

  /** Exact: 0.5*x*(1+erf(x/sqrt 2)); approx="tanh": 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3))). */
  private static void gelu(LoweringContext cx, Node n, List<String> in, List<String> out) {
    DType dt = n.type().dtype();
    String x = in.get(0);
    String inner;
    if (tanhGelu(n)) {
      String x3 = cx.op("Mul", cx.op("Mul", x, x), x);
      String arg = cx.op("Add", x, cx.op("Mul", cx.scalar(0.044715, dt), x3));
      inner = cx.op("Tanh", cx.op("Mul", cx.scalar(Math.sqrt(2 / Math.PI), dt), arg));
    } else {
      inner = cx.op("Erf", cx.op("Div", x, cx.scalar(Math.sqrt(2), dt)));
    }
    String halfX = cx.op("Mul", cx.scalar(0.5, dt), x);
    cx.node("Mul", List.of(halfX, cx.op("Add", cx.scalar(1, dt), inner)), out);
  }
}
