package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;

/**
 * Operators on values: compile-time arithmetic on integers (symbolic sizes included), numbers and
 * booleans; IR nodes when a tensor is involved (numbers become scalar constants of its dtype).
 */
final class Arith {
  private Arith() {}

  static Val neg(Val v, Span span, ElabContext el) {
    if (v instanceof IntV i) {
      return new IntV(Dim.of(0).minus(i.dim()));
    } else if (v instanceof FloatV f) {
      return new FloatV(-f.value());
    } else if (v instanceof TensorV t) {
      return new TensorV(el.node(Op.NEG, Attrs.NONE, span, t.value()));
    } else if (v instanceof ErrorV e) {
      throw ElabError.INSTANCE;
    } else {
      return el.fail(DiagnosticCode.TYPE_MISMATCH, span, "cannot negate " + Val.describe(v), null);
    }
  }

  static Val binary(String op, Val a, Val b, Span opSpan, Span span, ElabContext el) {
    return binary(op, a, b, opSpan, span, el, null);
  }

  static Val binary(
      String op, Val a, Val b, Span opSpan, Span span, ElabContext el, String bindName) {
    if (a instanceof ErrorV || b instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    if (isParamArith(a) || isParamArith(b)) {
      return paramArith(op, a, b, opSpan, span, el, bindName);
    }
    if (a instanceof TensorV || b instanceof TensorV) {
      return tensorBinary(op, a, b, opSpan, span, el);
    }
    if (a instanceof IntV x && b instanceof IntV y) {
      return intBinary(op, x.dim(), y.dim(), opSpan, el);
    }
    if (isNumber(a) && isNumber(b)) {
      double x = el.number(a, span, "operand");
      double y = el.number(b, span, "operand");
      return switch (op) {
        case "+" -> new FloatV(x + y);
        case "-" -> new FloatV(x - y);
        case "*" -> new FloatV(x * y);
        case "/" -> new FloatV(x / y);
        case "%" -> new FloatV(x % y);
        case "<" -> new BoolV(x < y);
        case "<=" -> new BoolV(x <= y);
        case ">" -> new BoolV(x > y);
        case ">=" -> new BoolV(x >= y);
        case "==" -> new BoolV(x == y);
        case "!=" -> new BoolV(x != y);
        default ->
            el.fail(
                DiagnosticCode.TYPE_MISMATCH,
                opSpan,
                "'" + op + "' needs tensors, got numbers",
                null);
      };
    }
    if (op.equals("==") || op.equals("!=")) {
      boolean eq = a.equals(b);
      if (a instanceof StrV
          || a instanceof BoolV
          || a instanceof NoneV
          || a instanceof DTypeV
          || b instanceof StrV
          || b instanceof BoolV
          || b instanceof NoneV) {
        return new BoolV(op.equals("==") == eq);
      }
    }
    return el.fail(
        DiagnosticCode.TYPE_MISMATCH,
        opSpan,
        "'" + op + "' cannot combine " + Val.describe(a) + " and " + Val.describe(b),
        null);
  }

  private static boolean isParamArith(Val v) {
    return v instanceof BundleV || v instanceof DeltaV || v instanceof ArithV;
  }

  private static java.util.List<Term> terms(Val v, double sign, Span span) {
    java.util.List<Term> out = new java.util.ArrayList<>();
    if (v instanceof BundleV b) {
      out.add(new Term(sign, b, span));
    } else if (v instanceof DeltaV d) {
      for (Term t : d.terms()) {
        out.add(new Term(sign * t.coef(), t.bundle(), t.span()));
      }
    }
    return out;
  }

  /** Parameter arithmetic (section 9): {@code base + c1 * b1 - c2 * b2}. */
  private static Val paramArith(
      String op, Val a, Val b, Span opSpan, Span span, ElabContext el, String bindName) {
    if (op.equals("*") && (isNumber(a) || isNumber(b))) {
      double c = el.number(isNumber(a) ? a : b, span, "coefficient");
      Val d = isNumber(a) ? b : a;
      if (d instanceof BundleV || d instanceof DeltaV) {
        return new DeltaV(terms(d, c, span));
      }
    }
    if (op.equals("+") || op.equals("-")) {
      double sign = op.equals("+") ? 1 : -1;
      if ((a instanceof BundleV || a instanceof DeltaV)
          && (b instanceof BundleV || b instanceof DeltaV)) {
        java.util.List<Term> t = terms(a, 1, span);
        t.addAll(terms(b, sign, span));
        return new DeltaV(t);
      }
      Val base = a instanceof InstanceV || a instanceof StackV || a instanceof ImportedV ? a : null;
      java.util.List<Term> t = new java.util.ArrayList<>();
      if (a instanceof ArithV av && av.merge() == null) {
        base = av.base();
        t.addAll(av.terms());
      }
      if (base != null && (b instanceof BundleV || b instanceof DeltaV)) {
        t.addAll(terms(b, sign, b instanceof BundleV bv ? bv.span() : span));
        return new ArithV(base, t, bindName, new Val[1], null);
      }
    }
    return el.fail(
        DiagnosticCode.TYPE_MISMATCH,
        opSpan,
        "parameter arithmetic is base + c * bundle - c * bundle; '"
            + op
            + "' cannot combine "
            + Val.describe(a)
            + " and "
            + Val.describe(b),
        "a bundle comes from import weights \"f.safetensors\" as name; the base is a module"
            + " instance, a repeat stack or an imported model (a ties(...) or dare(...) merge is"
            + " not combined further)");
  }

  private static boolean isNumber(Val v) {
    return v instanceof FloatV || (v instanceof IntV i && i.dim().isKnown());
  }

  private static Val intBinary(String op, Dim x, Dim y, Span opSpan, ElabContext el) {
    switch (op) {
      case "+":
        return new IntV(x.plus(y));
      case "-":
        return new IntV(x.minus(y));
      case "*":
        return new IntV(x.times(y));
      case "/":
        if (y.isKnown() && y.value() == 0) {
          return el.fail(DiagnosticCode.BAD_DIM, opSpan, "division by zero", null);
        }
        return new IntV(x.div(y));
      default:
        break;
    }
    if (op.equals("==") && x.equals(y)) {
      return new BoolV(true);
    }
    if (!x.isKnown() || !y.isKnown()) {
      return el.fail(
          DiagnosticCode.NOT_CONSTANT,
          opSpan,
          "'" + op + "' on the symbolic sizes " + x + " and " + y + " is not known at compile time",
          null);
    }
    long p = x.value();
    long q = y.value();
    return switch (op) {
      case "%" ->
          q == 0
              ? el.fail(DiagnosticCode.BAD_DIM, opSpan, "division by zero", null)
              : IntV.of(Math.floorMod(p, q));
      case "<" -> new BoolV(p < q);
      case "<=" -> new BoolV(p <= q);
      case ">" -> new BoolV(p > q);
      case ">=" -> new BoolV(p >= q);
      case "==" -> new BoolV(p == q);
      case "!=" -> new BoolV(p != q);
      default -> el.fail(DiagnosticCode.TYPE_MISMATCH, opSpan, "unknown operator " + op, null);
    };
  }

  static Op opFor(String op) {
    return switch (op) {
      case "+" -> Op.ADD;
      case "-" -> Op.SUB;
      case "*" -> Op.MUL;
      case "/" -> Op.DIV;
      case "@" -> Op.MATMUL;
      case "<" -> Op.LESS;
      case "<=" -> Op.LESS_EQUAL;
      case ">" -> Op.GREATER;
      case ">=" -> Op.GREATER_EQUAL;
      case "==" -> Op.EQUAL;
      case "!=" -> Op.NOT_EQUAL;
      default -> null;
    };
  }

  private static Val tensorBinary(String op, Val a, Val b, Span opSpan, Span span, ElabContext el) {
    Op o = opFor(op);
    if (o == null) {
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH, opSpan, "'" + op + "' is not defined on tensors", null);
    }
    DType like = a instanceof TensorV t ? t.type().dtype() : ((TensorV) b).type().dtype();
    Value x = asTensor(a, like, span, el);
    Value y = asTensor(b, like, span, el);
    if (o == Op.MATMUL
        && el.params().isStackedWeight(y)
        && (x.type().rank() == 2 || x.type().rank() == 3)
        && x.type().dim(0).equals(y.type().dim(0))) {
      return new TensorV(
          x.type().rank() == 2
              ? rowWise(x, y, opSpan, el)
              : el.params().stackedMatmul(x, y, opSpan));
    }
    if (o == Op.MATMUL && el.params().isPerExampleWeight(y) && x.type().rank() < 3) {
      return el.fail(
          DiagnosticCode.SHAPE_MISMATCH,
          opSpan,
          "this weight is generated per example (from hyper(...)), "
              + "so its input needs a sequence axis [batch, seq, in]; got "
              + x.type(),
          "declare the input with a sequence axis, e.g. f32[seq, d], or drop from hyper(...)");
    }
    return new TensorV(el.node(o, Attrs.NONE, opSpan, x, y));
  }

  /**
   * {@code x @ w} for one row of x per example and a weight per example ([batch, in] @ [batch, in,
   * out]): each row as a one-row matrix, so the product is [batch, out].
   */
  private static Value rowWise(Value x, Value w, Span span, ElabContext el) {
    dev.cmod.ir.type.Dim b = x.type().dim(0);
    dev.cmod.ir.type.Dim one = dev.cmod.ir.type.Dim.of(1);
    Value rows =
        el.node(Op.RESHAPE, Attrs.of("dims", java.util.List.of(b, one, x.type().dim(1))), span, x);
    Value y = el.params().stackedMatmul(rows, w, span);
    return el.node(Op.RESHAPE, Attrs.of("dims", java.util.List.of(b, w.type().dim(2))), span, y);
  }

  /** A value as a tensor; numbers become scalar constants of dtype {@code like}. */
  static Value asTensor(Val v, DType like, Span span, ElabContext el) {
    if (v instanceof TensorV t) {
      return t.value();
    }
    if (v instanceof BoolV bv && like == DType.BOOL) {
      return el.constant(
          Tensor.ofLongs(DType.BOOL, new long[0], new long[] {bv.value() ? 1 : 0}), span);
    }
    if (v instanceof IntV i && !i.dim().isKnown()) {
      el.fail(
          DiagnosticCode.UNSUPPORTED,
          span,
          "using the symbolic size " + i.dim() + " as a tensor value is not supported yet",
          null);
    }
    double d = el.number(v, span, "operand");
    if (like.isFloat()) {
      return el.constant(Tensor.ofFloats(like, new long[0], new float[] {(float) d}), span);
    }
    if (d != Math.rint(d)) {
      el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          span,
          "the number " + d + " cannot be combined with an integer tensor",
          "cast the tensor: cast(x, f32)");
    }
    return el.constant(Tensor.ofLongs(like, new long[0], new long[] {(long) d}), span);
  }
}
