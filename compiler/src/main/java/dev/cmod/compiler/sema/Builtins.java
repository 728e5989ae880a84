package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The builtin functions of section 8 (and the list aggregators of section 6). Each has a signature
 * (parameter names, defaults) in {@link BuiltinTable} so named arguments work like for modules;
 * axes may be negative.
 */
final class Builtins {
  /** Most parts {@code split(x, n)} makes (each is a value of its own). */
  static final long MAX_SPLIT_PARTS = 4096;

  private final ElabContext el;

  Builtins(ElabContext el) {
    this.el = el;
  }

  static boolean isBuiltin(String name) {
    return BuiltinTable.isBuiltin(name);
  }

  static Set<String> names() {
    return BuiltinTable.names();
  }

  Val call(String name, Args args, Body body) {
    if (name.equals("auto")) {
      return el.fail(
          DiagnosticCode.UNSUPPORTED,
          args.span(),
          "auto(...) synthesizes a model's output and can only be used as "
              + "the whole value of an output",
          "write output y: Class[10] = auto(x)");
    }
    BuiltinArgs b = BuiltinArgs.bind(el, name, args);
    Span sp = args.span();
    switch (name) {
      case "exp",
          "log",
          "sqrt",
          "abs",
          "tanh",
          "sigmoid",
          "relu",
          "silu",
          "erf",
          "floor",
          "ceil",
          "round",
          "sign",
          "sin",
          "cos" -> {
        Val x = b.vals.get("x");
        if (!(x instanceof TensorV)) {
          double v = el.number(x, b.at("x"), "argument of " + name);
          return new FloatV(
              switch (name) {
                case "exp" -> Math.exp(v);
                case "log" -> Math.log(v);
                case "sqrt" -> Math.sqrt(v);
                case "abs" -> Math.abs(v);
                case "tanh" -> Math.tanh(v);
                case "sigmoid" -> 1 / (1 + Math.exp(-v));
                case "relu" -> Math.max(0, v);
                case "floor" -> Math.floor(v);
                case "ceil" -> Math.ceil(v);
                case "round" -> Math.rint(v); // halves to even, as on tensors
                case "sign" -> Math.signum(v);
                case "sin" -> Math.sin(v);
                case "cos" -> Math.cos(v);
                default ->
                    el.fail(DiagnosticCode.TYPE_MISMATCH, sp, name + " needs a tensor", null)
                            == null
                        ? 0
                        : 0;
              });
        }
        Op op = Op.valueOf(name.toUpperCase(java.util.Locale.ROOT));
        return t(el.node(op, Attrs.NONE, sp, b.tensor("x")));
      }
      case "gelu" -> {
        Val a = b.vals.get("approx");
        String approx = a instanceof StrV s ? s.value() : "none";
        if (!approx.equals("none") && !approx.equals("tanh")) {
          el.fail(
              DiagnosticCode.TYPE_MISMATCH,
              b.at("approx"),
              "gelu approx must be \"none\" or \"tanh\", got \"" + approx + "\"",
              null);
        }
        return t(el.node(Op.GELU, Attrs.of("approx", approx), sp, b.tensor("x")));
      }
      case "pow" -> {
        Value x = b.tensor("x");
        return t(
            el.node(
                Op.POW,
                Attrs.NONE,
                sp,
                x,
                Arith.asTensor(b.vals.get("p"), x.type().dtype(), b.at("p"), el)));
      }
      case "maximum", "minimum" -> {
        Op op = name.equals("maximum") ? Op.MAXIMUM : Op.MINIMUM;
        return binaryOf(op, b, "a", "b", sp);
      }
      case "matmul" -> {
        return t(el.node(Op.MATMUL, Attrs.NONE, sp, b.tensor("a"), b.tensor("b")));
      }
      case "where" -> {
        Value c = b.tensor("cond");
        DType like =
            b.vals.get("a") instanceof TensorV ta
                ? ta.type().dtype()
                : b.vals.get("b") instanceof TensorV tb ? tb.type().dtype() : DType.F32;
        Value x = Arith.asTensor(b.vals.get("a"), like, b.at("a"), el);
        Value y = Arith.asTensor(b.vals.get("b"), like, b.at("b"), el);
        return t(el.node(Op.WHERE, Attrs.NONE, sp, c, x, y));
      }
      case "reshape" -> {
        return t(reshape(b.tensor("x"), b.list("shape"), b.at("shape"), sp));
      }
      case "transpose" -> {
        Value x = b.tensor("x");
        List<Val> perm = b.list("perm");
        long[] p = new long[perm.size()];
        for (int i = 0; i < p.length; i++) {
          long a = el.intValue(perm.get(i), b.at("perm"), "a permutation entry");
          p[i] = a < 0 ? a + x.type().rank() : a;
        }
        return t(el.node(Op.TRANSPOSE, Attrs.of("perm", p), sp, x));
      }
      case "flatten" -> {
        Value x = b.tensor("x");
        int axis = b.axis("axis", x.type().rank());
        List<Dim> dims = new ArrayList<>(x.type().dims().subList(0, axis));
        Dim rest = Dim.of(1);
        for (Dim d : x.type().dims().subList(axis, x.type().rank())) {
          rest = rest.times(d);
        }
        dims.add(rest);
        return t(el.node(Op.RESHAPE, Attrs.of("dims", dims), sp, x));
      }
      case "concat" -> {
        List<Value> xs = tensors(b.list("xs"), b.at("xs"));
        if (xs.isEmpty()) {
          el.fail(DiagnosticCode.ARITY, b.at("xs"), "concat needs at least one tensor", null);
        }
        int axis = b.axis("axis", xs.get(0).type().rank());
        if (xs.size() == 1) {
          return t(xs.get(0));
        }
        return t(el.node(Op.CONCAT, Attrs.of("axis", axis), sp, xs.toArray(new Value[0])));
      }
      case "split" -> {
        Value x = b.tensor("x");
        int axis = b.axis("axis", x.type().rank());
        List<Dim> sizes = new ArrayList<>();
        Val s = b.vals.get("sizes");
        if (s instanceof IntV n) {
          long parts = el.intValue(n, b.at("sizes"), "number of parts");
          Dim d = x.type().dim(axis);
          if (parts > MAX_SPLIT_PARTS) {
            // each part is a value of its own (an empty axis splits into any number of empty parts)
            el.fail(
                DiagnosticCode.LIMIT,
                b.at("sizes"),
                "cannot split axis of size "
                    + d
                    + " into "
                    + parts
                    + " parts (at most "
                    + MAX_SPLIT_PARTS
                    + ")",
                null);
          }
          if (parts <= 0 || (d.isKnown() && d.value() % parts != 0)) {
            el.fail(
                DiagnosticCode.BAD_DIM,
                b.at("sizes"),
                "cannot split axis of size " + d + " into " + parts + " equal parts",
                null);
          }
          for (int i = 0; i < parts; i++) {
            sizes.add(d.div(Dim.of(parts)));
          }
        } else {
          for (Val v : b.list("sizes")) {
            sizes.add(el.dimValue(v, b.at("sizes"), "a split size"));
          }
        }
        Node n = el.nodeMulti(Op.SPLIT, Attrs.of("sizes", sizes, "axis", axis), sp, x);
        List<Val> outs = new ArrayList<>();
        for (int i = 0; i < sizes.size(); i++) {
          outs.add(new TensorV(n.out(i)));
        }
        return new TupleV(outs, List.of());
      }
      case "slice" -> {
        Value x = b.tensor("x");
        int axis = b.axis("axis", x.type().rank());
        Dim size = x.type().dim(axis);
        Dim start = bound(el.dimValue(b.vals.get("start"), b.at("start"), "slice start"), size);
        Dim end = bound(el.dimValue(b.vals.get("end"), b.at("end"), "slice end"), size);
        return t(el.node(Op.SLICE, Attrs.of("axis", axis, "start", start, "end", end), sp, x));
      }
      case "unsqueeze" -> {
        Value x = b.tensor("x");
        return t(
            el.node(Op.UNSQUEEZE, Attrs.of("axis", b.axis("axis", x.type().rank() + 1)), sp, x));
      }
      case "squeeze" -> {
        Value x = b.tensor("x");
        return t(el.node(Op.SQUEEZE, Attrs.of("axis", b.axis("axis", x.type().rank())), sp, x));
      }
      case "broadcast" -> {
        Value x = b.tensor("x");
        List<Dim> dims = new ArrayList<>();
        for (Val v : b.list("dims")) {
          dims.add(el.dimValue(v, b.at("dims"), "a dim"));
        }
        return t(el.node(Op.BROADCAST, Attrs.of("dims", dims), sp, x));
      }
      case "sum", "mean", "max", "min" -> {
        return reduceOrAggregate(name, b, sp);
      }
      case "argmax" -> {
        Value x = b.tensor("x");
        return t(
            el.node(
                Op.ARGMAX,
                Attrs.of("axis", b.axis("axis", x.type().rank()), "keep", b.bool("keep")),
                sp,
                x));
      }
      case "softmax", "log_softmax" -> {
        Value x = b.tensor("x");
        Op op = name.equals("softmax") ? Op.SOFTMAX : Op.LOG_SOFTMAX;
        return t(el.node(op, Attrs.of("axis", b.axis("axis", x.type().rank())), sp, x));
      }
      case "layer_norm" -> {
        return t(
            el.node(
                Op.LAYER_NORM,
                Attrs.of("eps", b.number("eps")),
                sp,
                b.tensor("x"),
                b.tensor("gamma"),
                b.tensor("beta")));
      }
      case "rms_norm" -> {
        return t(
            el.node(
                Op.RMS_NORM,
                Attrs.of("eps", b.number("eps")),
                sp,
                b.tensor("x"),
                b.tensor("gamma")));
      }
      case "attention" -> {
        Attrs a = Attrs.of("causal", b.bool("causal"));
        if (!body.hooks.isEmpty()) {
          Adaptation.Prefixed kv =
              Adaptation.prefixKeysValues(
                  body.path, b.tensor("k"), b.tensor("v"), b.has("mask"), body.hooks, el, sp);
          b.vals.put("k", new TensorV(kv.k()));
          b.vals.put("v", new TensorV(kv.v()));
          if (kv.added() > 0 && b.bool("causal")) {
            a = a.with("causal_offset", kv.added());
          }
        }
        if (b.has("mask")) {
          return t(
              el.node(
                  Op.ATTENTION,
                  a,
                  sp,
                  b.tensor("q"),
                  b.tensor("k"),
                  b.tensor("v"),
                  b.tensor("mask")));
        }
        return t(el.node(Op.ATTENTION, a, sp, b.tensor("q"), b.tensor("k"), b.tensor("v")));
      }
      case "conv1d", "conv2d" -> {
        Op op = name.equals("conv1d") ? Op.CONV1D : Op.CONV2D;
        long stride = b.integer("stride");
        long pad = b.integer("padding");
        if (stride < 1 || pad < 0) {
          el.fail(DiagnosticCode.BAD_DIM, sp, name + " needs stride >= 1 and padding >= 0", null);
        }
        Attrs a = Attrs.of("stride", stride, "padding", pad);
        if (b.has("b")) {
          return t(el.node(op, a, sp, b.tensor("x"), b.tensor("w"), b.tensor("b")));
        }
        return t(el.node(op, a, sp, b.tensor("x"), b.tensor("w")));
      }
      case "avg_pool2d", "max_pool2d" -> {
        long k = b.integer("k");
        long stride = b.integer("stride");
        if (k < 1 || stride < 1) {
          el.fail(DiagnosticCode.BAD_DIM, sp, name + " needs k >= 1 and stride >= 1", null);
        }
        Op op = name.equals("avg_pool2d") ? Op.AVG_POOL2D : Op.MAX_POOL2D;
        return t(el.node(op, Attrs.of("kernel", k, "stride", stride), sp, b.tensor("x")));
      }
      case "upsample" -> {
        long f = b.integer("factor");
        if (f < 1) {
          el.fail(DiagnosticCode.BAD_DIM, b.at("factor"), "upsample factor must be >= 1", null);
        }
        return t(el.node(Op.UPSAMPLE, Attrs.of("factor", f), sp, b.tensor("x")));
      }
      case "patchify" -> {
        long p = b.integer("p");
        if (p < 1) {
          el.fail(DiagnosticCode.BAD_DIM, b.at("p"), "patch size must be >= 1", null);
        }
        return t(el.node(Op.PATCHIFY, Attrs.of("patch", p), sp, b.tensor("x")));
      }
      case "take" -> {
        return t(el.node(Op.TAKE, Attrs.NONE, sp, b.tensor("table"), b.tensor("ids")));
      }
      case "one_hot" -> {
        long n = b.integer("n");
        if (n < 1) {
          el.fail(DiagnosticCode.BAD_DIM, b.at("n"), "one_hot needs n >= 1", null);
        }
        return t(el.node(Op.ONE_HOT, Attrs.of("n", n), sp, b.tensor("ids")));
      }
      case "cosine" -> {
        Value x = b.tensor("a");
        Value y = b.tensor("b");
        int rank = Math.max(x.type().rank(), y.type().rank());
        return t(el.node(Op.COSINE, Attrs.of("axis", b.axis("axis", rank)), sp, x, y));
      }
      case "topk" -> {
        Value x = b.tensor("x");
        long k = b.integer("k");
        if (k < 1) {
          el.fail(DiagnosticCode.BAD_DIM, b.at("k"), "topk needs k >= 1", null);
        }
        Node n =
            el.nodeMulti(Op.TOPK, Attrs.of("k", k, "axis", b.axis("axis", x.type().rank())), sp, x);
        return new TupleV(
            List.of(new TensorV(n.out(0)), new TensorV(n.out(1))), List.of("values", "indices"));
      }
      case "cast" -> {
        Val d = b.vals.get("dtype");
        DType to =
            d instanceof DTypeV dv
                ? dv.dtype()
                : d instanceof StrV s ? DType.fromText(s.value()) : null;
        if (to == null) {
          el.fail(
              DiagnosticCode.TYPE_MISMATCH,
              b.at("dtype"),
              "cast needs an element type such as f32 or i64, got " + Val.describe(d),
              null);
        }
        Value x = b.tensor("x");
        if (x.type().dtype() == to) {
          return t(x);
        }
        return t(el.node(Op.CAST, Attrs.of("to", to), sp, x));
      }
      case "weighted" -> {
        return weighted(b, sp);
      }
      case "fuse" -> {
        return el.fuse(b.tensor("x"), b.list("modules"), b.at("modules"), sp, body);
      }
      case "tokens" -> {
        Value x = b.tensor("x");
        TensorType ty = x.type();
        Dim n = Dim.of(1);
        int end = ty.dtype().isFloat() && ty.rank() >= 3 ? ty.rank() - 1 : ty.rank();
        for (int i = 1; i < end; i++) {
          n = n.times(ty.dim(i));
        }
        Dim bounded = n;
        if (!n.isKnown()) {
          try {
            bounded =
                Dim.of(
                    n.eval(
                        s -> {
                          long[] r = el.facts().bounds().get(s);
                          if (r == null || r[1] == Long.MAX_VALUE) {
                            throw new IllegalStateException(s);
                          }
                          return r[1];
                        }));
          } catch (IllegalStateException e) {
            return el.fail(
                DiagnosticCode.NOT_CONSTANT,
                sp,
                "tokens(" + ty + ") is unbounded: '" + e.getMessage() + "' has no upper bound",
                "add a where clause, e.g. where " + e.getMessage() + " <= 256");
          }
        }
        return new IntV(bounded);
      }
      default -> {
        return el.fail(DiagnosticCode.UNSUPPORTED, sp, name + " is not implemented", null);
      }
    }
  }

  private static TensorV t(Value v) {
    return new TensorV(v);
  }

  private Val binaryOf(Op op, BuiltinArgs b, String ka, String kb, Span sp) {
    Val x = b.vals.get(ka);
    Val y = b.vals.get(kb);
    if (!(x instanceof TensorV) && !(y instanceof TensorV)) {
      double p = el.number(x, b.at(ka), "argument");
      double q = el.number(y, b.at(kb), "argument");
      return new FloatV(op == Op.MAXIMUM ? Math.max(p, q) : Math.min(p, q));
    }
    DType like = x instanceof TensorV tx ? tx.type().dtype() : ((TensorV) y).type().dtype();
    return t(
        el.node(
            op,
            Attrs.NONE,
            sp,
            Arith.asTensor(x, like, b.at(ka), el),
            Arith.asTensor(y, like, b.at(kb), el)));
  }

  /**
   * Normalizes a (possibly negative) index against {@code size} and clamps it when both are known.
   */
  private static Dim bound(Dim i, Dim size) {
    if (i.isKnown() && i.value() < 0) {
      i = size.plus(i);
    }
    if (i.isKnown() && size.isKnown()) {
      return Dim.of(Math.max(0, Math.min(i.value(), size.value())));
    }
    return i;
  }

  private Value reshape(Value x, List<Val> shape, Span at, Span sp) {
    List<Dim> dims = new ArrayList<>();
    int infer = -1;
    for (int i = 0; i < shape.size(); i++) {
      Dim d = el.dimValue(shape.get(i), at, "a reshape entry");
      if (d.isKnown() && d.value() == -1) {
        if (infer >= 0) {
          el.fail(DiagnosticCode.BAD_DIM, at, "reshape allows at most one -1", null);
        }
        infer = i;
      } else if (d.isKnown() && d.value() < 0) {
        el.fail(DiagnosticCode.BAD_DIM, at, "reshape entry " + d + " is negative", null);
      }
      dims.add(d);
    }
    if (infer >= 0) {
      Dim known = Dim.of(1);
      for (int i = 0; i < dims.size(); i++) {
        if (i != infer) {
          known = known.times(dims.get(i));
        }
      }
      Dim total = x.type().numel();
      if (known.isKnown() && known.value() == 0) {
        el.fail(
            DiagnosticCode.BAD_DIM, at, "cannot infer -1 when other entries multiply to 0", null);
      }
      Dim inferred = total.div(known);
      if (total.isKnown() && known.isKnown() && total.value() % known.value() != 0) {
        el.fail(
            DiagnosticCode.SHAPE_MISMATCH,
            at,
            "cannot reshape "
                + x.type()
                + " ("
                + total
                + " elements) into "
                + shapeText(dims)
                + ": "
                + total
                + " is not a multiple of "
                + known,
            null);
      }
      dims.set(infer, inferred);
    }
    return el.node(Op.RESHAPE, Attrs.of("dims", dims), sp, x);
  }

  private static String shapeText(List<Dim> dims) {
    return dims.toString();
  }

  private List<Value> tensors(List<Val> vs, Span at) {
    List<Value> out = new ArrayList<>();
    for (Val v : vs) {
      out.add(el.tensorOf(v, at, "list element"));
    }
    return out;
  }

  private Val reduceOrAggregate(String name, BuiltinArgs b, Span sp) {
    Val xv = b.vals.get("x");
    if (xv instanceof ListV || xv instanceof TupleV) {
      List<Value> xs = tensors(b.list("x"), b.at("x"));
      if (xs.isEmpty()) {
        return el.fail(DiagnosticCode.ARITY, b.at("x"), name + " of an empty list", null);
      }
      Op op =
          switch (name) {
            case "sum", "mean" -> Op.ADD;
            case "max" -> Op.MAXIMUM;
            default -> Op.MINIMUM;
          };
      Value acc = xs.get(0);
      for (int i = 1; i < xs.size(); i++) {
        acc = el.node(op, Attrs.NONE, sp, acc, xs.get(i));
      }
      if (name.equals("mean")) {
        acc =
            el.node(
                Op.DIV,
                Attrs.NONE,
                sp,
                acc,
                Arith.asTensor(new FloatV(xs.size()), acc.type().dtype(), sp, el));
      }
      return t(acc);
    }
    Value x = b.tensor("x");
    Op op =
        switch (name) {
          case "sum" -> Op.REDUCE_SUM;
          case "mean" -> Op.REDUCE_MEAN;
          case "max" -> Op.REDUCE_MAX;
          default -> Op.REDUCE_MIN;
        };
    boolean keep = b.bool("keep");
    if (b.vals.get("axis") instanceof StrV) {
      // no axis: reduce every axis, last first
      Value acc = x;
      for (int a = x.type().rank() - 1; a >= 0; a--) {
        acc = el.node(op, Attrs.of("axis", a, "keep", keep), sp, acc);
      }
      return t(acc);
    }
    return t(el.node(op, Attrs.of("axis", b.axis("axis", x.type().rank()), "keep", keep), sp, x));
  }

  private Val weighted(BuiltinArgs b, Span sp) {
    List<Value> xs = tensors(b.list("xs"), b.at("xs"));
    if (xs.isEmpty()) {
      return el.fail(DiagnosticCode.ARITY, b.at("xs"), "weighted of an empty list", null);
    }
    Val w = b.vals.get("w");
    DType dt = xs.get(0).type().dtype();
    Value acc = null;
    if (w instanceof ListV l) {
      if (l.items().size() != xs.size()) {
        el.fail(
            DiagnosticCode.ARITY,
            b.at("w"),
            "weighted has " + xs.size() + " values but " + l.items().size() + " weights",
            null);
      }
      for (int i = 0; i < xs.size(); i++) {
        Value term =
            el.node(
                Op.MUL,
                Attrs.NONE,
                sp,
                xs.get(i),
                Arith.asTensor(l.items().get(i), dt, b.at("w"), el));
        acc = acc == null ? term : el.node(Op.ADD, Attrs.NONE, sp, acc, term);
      }
      return t(acc);
    }
    Value wt = b.tensor("w");
    int r = wt.type().rank();
    Dim n = r == 0 ? Dim.of(1) : wt.type().dim(r - 1);
    if (r == 0 || (n.isKnown() && n.value() != xs.size())) {
      el.fail(
          DiagnosticCode.SHAPE_MISMATCH,
          b.at("w"),
          "weights " + wt.type() + " need a last axis of size " + xs.size(),
          null);
    }
    for (int i = 0; i < xs.size(); i++) {
      Value wi =
          el.node(
              Op.SLICE, Attrs.of("axis", r - 1, "start", Dim.of(i), "end", Dim.of(i + 1)), sp, wt);
      Value term = el.node(Op.MUL, Attrs.NONE, sp, xs.get(i), wi);
      acc = acc == null ? term : el.node(Op.ADD, Attrs.NONE, sp, acc, term);
    }
    return t(acc);
  }

  static Tensor scalarOf(double v) {
    return Tensor.ofFloats(new long[0], new float[] {(float) v});
  }
}
