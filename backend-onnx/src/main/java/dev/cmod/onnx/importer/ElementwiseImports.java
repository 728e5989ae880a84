package dev.cmod.onnx.importer;

import static dev.cmod.onnx.importer.ImportContext.dimsOf;

import ai.onnx.proto.OnnxMl.AttributeProto;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Imports of ONNX's elementwise operators: arithmetic, comparisons and logic (the arithmetic on
 * folded shape vectors stays folded), unary functions, the activations (composed of IR elementwise
 * operators where the IR has no such operator), select, cast and clip.
 */
final class ElementwiseImports {
  private ElementwiseImports() {}

  /** Elu, or Selu (scaled by gamma, with Selu's default alpha). */
  private static void elu(ImportContext cx, boolean selu) {
    Value x = cx.val(cx.need(0));
    DType dt = x.type().dtype();
    float alpha = cx.attrFloat("alpha", selu ? 1.67326319217681884765625f : 1f);
    Value em1 =
        cx.add(Op.SUB, cx.add(Op.EXP, cx.add(Op.MINIMUM, x, cx.scalar(0, dt))), cx.scalar(1, dt));
    Value r =
        cx.add(
            Op.WHERE,
            cx.add(Op.GREATER, x, cx.scalar(0, dt)),
            x,
            cx.add(Op.MUL, cx.scalar(alpha, dt), em1));
    if (selu) {
      r = cx.add(Op.MUL, cx.scalar(cx.attrFloat("gamma", 1.05070102214813232421875f), dt), r);
    }
    cx.out(r);
  }

  /** An ONNX operator that is one IR operator of one operand. */
  private static ImportTable.OpImport unary(Op op) {
    return cx -> cx.out(cx.add(op, cx.val(cx.need(0))));
  }

  static void register(ImportTable.Registrar r) {
    r.add("Neg", Set.of(Op.NEG), unary(Op.NEG));
    r.add("Exp", Set.of(Op.EXP), unary(Op.EXP));
    r.add("Log", Set.of(Op.LOG), unary(Op.LOG));
    r.add("Sqrt", Set.of(Op.SQRT), unary(Op.SQRT));
    r.add("Abs", Set.of(Op.ABS), unary(Op.ABS));
    r.add("Tanh", Set.of(Op.TANH), unary(Op.TANH));
    r.add("Sigmoid", Set.of(Op.SIGMOID), unary(Op.SIGMOID));
    r.add("Relu", Set.of(Op.RELU), unary(Op.RELU));
    r.add("Erf", Set.of(Op.ERF), unary(Op.ERF));
    r.add("Floor", Set.of(Op.FLOOR), unary(Op.FLOOR));
    r.add("Ceil", Set.of(Op.CEIL), unary(Op.CEIL));
    r.add("Round", Set.of(Op.ROUND), unary(Op.ROUND));
    r.add("Sign", Set.of(Op.SIGN), unary(Op.SIGN));
    r.add("Sin", Set.of(Op.SIN), unary(Op.SIN));
    r.add("Cos", Set.of(Op.COS), unary(Op.COS));
    r.add("Tan", Set.of(Op.TAN), unary(Op.TAN));
    r.add("Asin", Set.of(Op.ASIN), unary(Op.ASIN));
    r.add("Acos", Set.of(Op.ACOS), unary(Op.ACOS));
    r.add("Atan", Set.of(Op.ATAN), unary(Op.ATAN));
    r.add("Sinh", Set.of(Op.SINH), unary(Op.SINH));
    r.add("Cosh", Set.of(Op.COSH), unary(Op.COSH));
    r.add("Asinh", Set.of(Op.ASINH), unary(Op.ASINH));
    r.add("Acosh", Set.of(Op.ACOSH), unary(Op.ACOSH));
    r.add("Atanh", Set.of(Op.ATANH), unary(Op.ATANH));
    r.add(
        "IsNaN",
        Set.of(Op.IS_NAN, Op.CAST),
        cx -> cx.out(cx.add(Op.IS_NAN, widened(cx, DType.BF16))));
    r.add(
        "IsInf",
        Set.of(Op.IS_INF, Op.CAST),
        cx ->
            cx.out(
                cx.add(
                    Op.IS_INF,
                    Attrs.of(
                        "detect_negative",
                        cx.attrInt("detect_negative", 1) != 0,
                        "detect_positive",
                        cx.attrInt("detect_positive", 1) != 0),
                    widened(cx, DType.F16, DType.BF16))));
    r.add("And", Set.of(Op.AND), cx -> binary(cx, Op.AND));
    r.add("Or", Set.of(Op.OR), cx -> binary(cx, Op.OR));
    r.add("Xor", Set.of(Op.XOR), cx -> binary(cx, Op.XOR));
    r.add("Mod", Set.of(Op.MOD), ElementwiseImports::mod);
    r.add("Add", Set.of(Op.ADD), cx -> binary(cx, Op.ADD));
    r.add("Sub", Set.of(Op.SUB), cx -> binary(cx, Op.SUB));
    r.add("Mul", Set.of(Op.MUL), cx -> binary(cx, Op.MUL));
    r.add("Div", Set.of(Op.DIV), cx -> binary(cx, Op.DIV));
    r.add("Less", Set.of(Op.LESS), cx -> binary(cx, Op.LESS));
    r.add("LessOrEqual", Set.of(Op.LESS_EQUAL), cx -> binary(cx, Op.LESS_EQUAL));
    r.add("Greater", Set.of(Op.GREATER), cx -> binary(cx, Op.GREATER));
    r.add("GreaterOrEqual", Set.of(Op.GREATER_EQUAL), cx -> binary(cx, Op.GREATER_EQUAL));
    r.add("Equal", Set.of(Op.EQUAL), cx -> binary(cx, Op.EQUAL));
    r.add("Identity", Set.of(), cx -> cx.out(0, cx.need(0)));
    r.add("Dropout", Set.of(Op.BROADCAST), ElementwiseImports::dropout);
    r.add(
        "Shrink",
        Set.of(Op.WHERE, Op.LESS, Op.GREATER, Op.ADD, Op.SUB),
        ElementwiseImports::shrink);
    r.add("PRelu", Set.of(Op.ADD, Op.MAXIMUM, Op.MUL, Op.MINIMUM), ElementwiseImports::pRelu);
    r.add("ThresholdedRelu", Set.of(Op.WHERE, Op.GREATER), ElementwiseImports::thresholdedRelu);
    r.add(
        "Celu",
        Set.of(Op.SUB, Op.EXP, Op.DIV, Op.ADD, Op.MAXIMUM, Op.MINIMUM, Op.MUL),
        ElementwiseImports::celu);
    r.add("Cast", Set.of(Op.CAST), ElementwiseImports::cast);
    r.add("CastLike", Set.of(Op.CAST), ElementwiseImports::castLike);
    r.add("Pow", Set.of(Op.POW, Op.CAST), ElementwiseImports::pow);
    r.add("Max", Set.of(Op.MAXIMUM), cx -> variadic(cx, "Max"));
    r.add("Min", Set.of(Op.MINIMUM), cx -> variadic(cx, "Min"));
    r.add("Sum", Set.of(Op.ADD), cx -> variadic(cx, "Sum"));
    r.add("Mean", Set.of(Op.ADD, Op.DIV), cx -> variadic(cx, "Mean"));
    r.add("Not", Set.of(Op.NOT), unary(Op.NOT));
    r.add(
        "Where",
        Set.of(Op.WHERE),
        cx -> cx.out(cx.add(Op.WHERE, cx.val(cx.need(0)), cx.val(cx.need(1)), cx.val(cx.need(2)))));
    r.add("Reciprocal", Set.of(Op.RECIPROCAL), unary(Op.RECIPROCAL));
    r.add(
        "LeakyRelu", Set.of(Op.MUL, Op.MINIMUM, Op.ADD, Op.MAXIMUM), ElementwiseImports::leakyRelu);
    r.add(
        "Elu",
        Set.of(Op.SUB, Op.EXP, Op.MINIMUM, Op.WHERE, Op.GREATER, Op.MUL),
        cx -> elu(cx, false));
    r.add(
        "Selu",
        Set.of(Op.SUB, Op.EXP, Op.MINIMUM, Op.WHERE, Op.GREATER, Op.MUL),
        cx -> elu(cx, true));
    r.add(
        "Softplus",
        Set.of(Op.LOG, Op.ADD, Op.EXP, Op.NEG, Op.ABS, Op.MAXIMUM),
        ElementwiseImports::softplus);
    r.add("Softsign", Set.of(Op.DIV, Op.ADD, Op.ABS), ElementwiseImports::softsign);
    r.add(
        "HardSigmoid",
        Set.of(Op.ADD, Op.MUL, Op.MAXIMUM, Op.MINIMUM),
        cx ->
            cx.out(
                hardSigmoid(
                    cx,
                    cx.val(cx.need(0)),
                    cx.attrFloat("alpha", 0.2f),
                    cx.attrFloat("beta", 0.5f))));
    r.add(
        "HardSwish", Set.of(Op.ADD, Op.MUL, Op.MAXIMUM, Op.MINIMUM), ElementwiseImports::hardSwish);
    r.add("Clip", Set.of(Op.MAXIMUM, Op.MINIMUM), ElementwiseImports::clip);
  }

  /**
   * Dropout at inference (or in training with a ratio of 0): the identity, and a mask (where read)
   * that keeps everything.
   */
  private static void dropout(ImportContext cx) {
    ImportValue training = cx.in(2);
    if (training != null && !isConstant(training, 0)) {
      ImportValue ratio = cx.in(1);
      if (ratio == null || !isConstant(ratio, 0)) {
        throw cx.unsupportedHere("training mode");
      }
    }
    cx.out(0, cx.need(0));
    if (cx.outputUsed(1)) {
      Value x = cx.val(cx.need(0));
      cx.out(
          1,
          ImportValue.of(
              cx.add(Op.BROADCAST, Attrs.of("dims", x.type().dims()), cx.scalar(1, DType.BOOL))));
    }
  }

  private static boolean isConstant(ImportValue v, double value) {
    return v.tensor != null && v.tensor.size() == 1 && v.tensor.get(0) == value;
  }

  /** Shrink: x + bias below -lambd, x - bias above lambd, 0 between. */
  private static void shrink(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    DType dt = x.type().dtype();
    if (!dt.isFloat()) {
      throw cx.unsupportedHere("a " + dt + " input");
    }
    double lambd = cx.attrFloat("lambd", 0.5f);
    Value bias = cx.scalar(cx.attrFloat("bias", 0f), dt);
    Value zero = cx.scalar(0, dt);
    Value above =
        cx.add(
            Op.WHERE, cx.add(Op.GREATER, x, cx.scalar(lambd, dt)), cx.add(Op.SUB, x, bias), zero);
    cx.out(
        cx.add(
            Op.WHERE, cx.add(Op.LESS, x, cx.scalar(-lambd, dt)), cx.add(Op.ADD, x, bias), above));
  }

  private static void pRelu(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    Value slope = cx.val(cx.need(1));
    DType dt = x.type().dtype();
    cx.out(
        cx.add(
            Op.ADD,
            cx.add(Op.MAXIMUM, x, cx.scalar(0, dt)),
            cx.add(Op.MUL, slope, cx.add(Op.MINIMUM, x, cx.scalar(0, dt)))));
  }

  private static void thresholdedRelu(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    DType dt = x.type().dtype();
    cx.out(
        cx.add(
            Op.WHERE,
            cx.add(Op.GREATER, x, cx.scalar(cx.attrFloat("alpha", 1f), dt)),
            x,
            cx.scalar(0, dt)));
  }

  private static void celu(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    DType dt = x.type().dtype();
    float alpha = cx.attrFloat("alpha", 1f);
    Value e =
        cx.add(Op.SUB, cx.add(Op.EXP, cx.add(Op.DIV, x, cx.scalar(alpha, dt))), cx.scalar(1, dt));
    cx.out(
        cx.add(
            Op.ADD,
            cx.add(Op.MAXIMUM, x, cx.scalar(0, dt)),
            cx.add(Op.MINIMUM, cx.scalar(0, dt), cx.add(Op.MUL, cx.scalar(alpha, dt), e))));
  }

  private static void pow(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    Value y = cx.val(cx.need(1));
    if (y.type().dtype() != x.type().dtype()) {
      y = cx.add(Op.CAST, Attrs.of("to", x.type().dtype()), y);
    }
    cx.out(cx.add(Op.POW, x, y));
  }

  private static void mod(ImportContext cx) {
    Value a = cx.val(cx.need(0));
    Value b = cx.val(cx.need(1));
    boolean fmod = cx.attrInt("fmod", 0) != 0;
    if (!fmod && a.type().dtype().isFloat()) {
      throw cx.unsupportedHere("fmod = 0 on floating point (ONNX requires fmod = 1 there)");
    }
    cx.out(cx.add(Op.MOD, Attrs.of("fmod", fmod), a, b));
  }

  private static void leakyRelu(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    DType dt = x.type().dtype();
    Value neg =
        cx.add(
            Op.MUL,
            cx.scalar(cx.attrFloat("alpha", 0.01f), dt),
            cx.add(Op.MINIMUM, x, cx.scalar(0, dt)));
    cx.out(cx.add(Op.ADD, cx.add(Op.MAXIMUM, x, cx.scalar(0, dt)), neg));
  }

  private static void softplus(ImportContext cx) {
    // log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)), without overflow
    Value x = cx.val(cx.need(0));
    DType dt = x.type().dtype();
    Value tail =
        cx.add(
            Op.LOG,
            cx.add(Op.ADD, cx.scalar(1, dt), cx.add(Op.EXP, cx.add(Op.NEG, cx.add(Op.ABS, x)))));
    cx.out(cx.add(Op.ADD, cx.add(Op.MAXIMUM, x, cx.scalar(0, dt)), tail));
  }

  private static void softsign(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    cx.out(cx.add(Op.DIV, x, cx.add(Op.ADD, cx.scalar(1, x.type().dtype()), cx.add(Op.ABS, x))));
  }

  private static void hardSwish(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    cx.out(cx.add(Op.MUL, x, hardSigmoid(cx, x, 1f / 6, 0.5f)));
  }

  private static void binary(ImportContext cx, Op op) {
    ImportValue a = cx.need(0);
    ImportValue b = cx.need(1);
    List<Dim> da = dimsOf(a);
    List<Dim> db = dimsOf(b);
    boolean arith = op == Op.ADD || op == Op.SUB || op == Op.MUL || op == Op.DIV;
    if (arith
        && da != null
        && db != null
        && (a.dims != null || b.dims != null)
        && (da.size() == db.size() || da.size() == 1 || db.size() == 1)) {
      int len = Math.max(da.size(), db.size());
      List<Dim> r = new ArrayList<>();
      for (int i = 0; i < len; i++) {
        Dim x = da.get(da.size() == 1 ? 0 : i);
        Dim y = db.get(db.size() == 1 ? 0 : i);
        r.add(
            switch (op) {
              case ADD -> x.plus(y);
              case SUB -> x.minus(y);
              case MUL -> x.times(y);
              default ->
                  x.isKnown() && y.isKnown() && y.value() != 0
                      ? Dim.of(x.value() / y.value())
                      : x.div(y);
            });
      }
      DType dt = a.dims != null ? a.dimsType : b.dimsType;
      cx.out(0, ImportValue.dims(r, cx.isScalar(a) && cx.isScalar(b), dt));
      return;
    }
    cx.out(cx.add(op, cx.val(a), cx.val(b)));
  }

  private static void variadic(ImportContext cx, String op) {
    List<Value> xs = new ArrayList<>();
    for (int i = 0; i < cx.node().getInputCount(); i++) {
      if (!cx.node().getInput(i).isEmpty()) {
        xs.add(cx.val(cx.get(cx.node().getInput(i))));
      }
    }
    if (xs.isEmpty()) {
      throw new ImportException("ONNX operator " + cx.describe() + " has no inputs");
    }
    Op f =
        switch (op) {
          case "Max" -> Op.MAXIMUM;
          case "Min" -> Op.MINIMUM;
          default -> Op.ADD;
        };
    Value acc = xs.get(0);
    for (int i = 1; i < xs.size(); i++) {
      acc = cx.add(f, acc, xs.get(i));
    }
    if (op.equals("Mean") && xs.size() > 1) {
      acc = cx.add(Op.DIV, acc, cx.scalar(xs.size(), acc.type().dtype()));
    }
    cx.out(acc);
  }

  private static Value hardSigmoid(ImportContext cx, Value x, float alpha, float beta) {
    DType dt = x.type().dtype();
    Value lin = cx.add(Op.ADD, cx.add(Op.MUL, x, cx.scalar(alpha, dt)), cx.scalar(beta, dt));
    return cx.add(Op.MAXIMUM, cx.add(Op.MINIMUM, lin, cx.scalar(1, dt)), cx.scalar(0, dt));
  }

  private static void clip(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    DType dt = x.type().dtype();
    Value lo;
    Value hi;
    if (cx.opset() < 11) {
      AttributeProto mn = cx.attr("min");
      AttributeProto mx = cx.attr("max");
      lo = mn == null ? null : cx.scalar(mn.getF(), dt);
      hi = mx == null ? null : cx.scalar(mx.getF(), dt);
    } else {
      lo = cx.in(1) == null ? null : cx.val(cx.in(1));
      hi = cx.in(2) == null ? null : cx.val(cx.in(2));
    }
    if (lo != null) {
      x = cx.add(Op.MAXIMUM, x, lo);
    }
    if (hi != null) {
      x = cx.add(Op.MINIMUM, x, hi);
    }
    cx.out(x);
  }

  /**
   * The first input, cast to f32 where it has one of {@code halfs}: IsInf (f16 and bf16) and IsNaN
   * (bf16) take them from opset 20 only, and the cast keeps infinities and NaN.
   */
  private static Value widened(ImportContext cx, DType... halfs) {
    Value x = cx.val(cx.need(0));
    for (DType h : halfs) {
      if (x.type().dtype() == h) {
        return cx.add(Op.CAST, Attrs.of("to", DType.F32), x);
      }
    }
    return x;
  }

  /** CastLike: a cast to the element type of input 1. */
  private static void castLike(ImportContext cx) {
    Value x = cx.val(cx.need(0));
    DType to = cx.type(cx.need(1)).dtype();
    cx.out(x.type().dtype() == to ? x : cx.add(Op.CAST, Attrs.of("to", to), x));
  }

  private static void cast(ImportContext cx) {
    ImportValue x = cx.need(0);
    DType to =
        OnnxTypes.dtype((int) cx.attrInt("to", 0), "ONNX operator " + cx.describe() + " target");
    List<Dim> d = x.dims;
    if (d != null && to.isInteger()) {
      cx.out(0, ImportValue.dims(d, x.scalar, to));
      return;
    }
    if (x.tensor != null
        && to.isInteger()
        && !x.tensor.isFloat()
        && x.tensor.dtype() != DType.BOOL
        && x.tensor.rank() <= 1) {
      cx.out(0, ImportValue.dims(dimsOf(x), x.tensor.rank() == 0, to));
      return;
    }
    Value v = cx.val(x);
    cx.out(v.type().dtype() == to ? v : cx.add(Op.CAST, Attrs.of("to", to), v));
  }
}
