package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * Routing and fusion: {@code route x to experts by topk(k) | soft | index(i)} and {@code fuse(x,
 * [a, b])} (AdapterFusion). One job: gates over module outputs, with their router and fusion
 * parameters; the experts are applied through {@link ElabContext#applyTo}. A route becomes one
 * structured node (see {@code Op.ROUTE}) so that passes see it; fusion is built dense.
 */
final class Routing {
  private final ElabContext el;

  Routing(ElabContext el) {
    this.el = el;
  }

  /**
   * {@code fuse(x, [a, b, ...])}: attention over module outputs (AdapterFusion). A gate instance
   * {@code Fuse_<n>} holds query, key and value [d, d]; each output o_i is scored by
   * (x·Wq)·(o_i·Wk)/sqrt(d), the scores are softmaxed over the modules, and the result is Σ
   * softmax_i · (o_i·Wv).
   */
  Val fuse(Value x, List<Val> modules, Span at, Span sp, Body body) {
    if (modules.isEmpty()) {
      return el.fail(DiagnosticCode.ARITY, at, "fuse needs at least one module", null);
    }
    int r = x.type().rank();
    if (r < 1 || !x.type().dim(r - 1).isKnown() || !x.type().dtype().isFloat()) {
      return el.fail(
          DiagnosticCode.SHAPE_MISMATCH,
          sp,
          "fuse needs a float tensor with a known feature size, got " + x.type(),
          null);
    }
    long d = x.type().dim(r - 1).value();
    String gate = "Fuse_" + body.fuseCount++;
    Value[] w = new Value[3];
    String[] names = {"query", "key", "value"};
    for (int i = 0; i < 3; i++) {
      String key = gate + "." + names[i];
      w[i] = body.params.get(key);
      if (w[i] == null) {
        w[i] =
            el.params()
                .createParam(
                    body.child(key),
                    TensorType.of(x.type().dtype(), d, d),
                    () -> new InitV("xavier", List.of()),
                    body.trainable,
                    sp,
                    sp);
        body.params.put(key, w[i]);
      }
    }
    Value q = el.node(Op.MATMUL, Attrs.NONE, sp, x, w[0]);
    Value scale =
        el.constant(
            Tensor.ofFloats(
                x.type().dtype(), new long[0], new float[] {(float) (1 / Math.sqrt(d))}),
            sp);
    List<Value> scores = new ArrayList<>();
    List<Value> values = new ArrayList<>();
    TensorType first = null;
    for (int i = 0; i < modules.size(); i++) {
      Value o =
          el.tensorOf(
              el.applyTo(modules.get(i), new TensorV(x), at, body), at, "module " + i + " of fuse");
      if (first == null) {
        first = o.type();
      } else if (!first.equals(o.type())) {
        return el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            at,
            "fused modules must all give the same type: module 0 gives "
                + first
                + " but module "
                + i
                + " gives "
                + o.type(),
            null);
      }
      if (!o.type().equals(x.type())) {
        return el.fail(
            DiagnosticCode.SHAPE_MISMATCH,
            at,
            "fused modules must keep the input's type "
                + x.type()
                + ", module "
                + i
                + " gives "
                + o.type(),
            null);
      }
      Value k = el.node(Op.MATMUL, Attrs.NONE, sp, o, w[1]);
      scores.add(
          el.node(
              Op.MUL,
              Attrs.NONE,
              sp,
              el.node(
                  Op.REDUCE_SUM,
                  Attrs.of("axis", r - 1, "keep", true),
                  sp,
                  el.node(Op.MUL, Attrs.NONE, sp, q, k)),
              scale));
      values.add(el.node(Op.MATMUL, Attrs.NONE, sp, o, w[2]));
    }
    Value s =
        scores.size() == 1
            ? scores.get(0)
            : el.node(Op.CONCAT, Attrs.of("axis", r - 1), sp, scores.toArray(new Value[0]));
    Value p = el.node(Op.SOFTMAX, Attrs.of("axis", r - 1), sp, s);
    Value acc = null;
    for (int i = 0; i < values.size(); i++) {
      Value pi =
          el.node(
              Op.SLICE, Attrs.of("axis", r - 1, "start", Dim.of(i), "end", Dim.of(i + 1)), sp, p);
      Value term = el.node(Op.MUL, Attrs.NONE, sp, values.get(i), pi);
      acc = acc == null ? term : el.node(Op.ADD, Attrs.NONE, sp, acc, term);
    }
    return new TensorV(acc);
  }

  /**
   * {@code route x to experts by mode}: builds the gates (a learned router for topk and soft, a
   * one-hot of the index for index), applies every expert to x and returns one {@code route} node
   * over the gates and the experts' outputs, which {@code LowerRouting} expands into their
   * gate-weighted sum.
   */
  Val route(Route r, Body body) {
    Value x = el.tensorOf(el.eval(r.input(), body, null), r.input().span(), "the routed value");
    Val ev = el.eval(r.experts(), body, null);
    if (ev instanceof StackV st) {
      // a repeat stack bound as experts: its copies are the experts (experts.0, experts.1, ...)
      List<Val> items = new ArrayList<>();
      st.layers().forEach(l -> items.add(new InstanceV(l)));
      ev = new ListV(items);
    }
    if (!(ev instanceof ListV list) || list.items().isEmpty()) {
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          r.experts().span(),
          "route needs a non-empty list of experts, got " + Val.describe(ev),
          "for example [Mlp(16), Mlp(16)]");
    }
    int n = list.items().size();
    Expr by = r.by();
    String mode =
        by instanceof NameRef nr
            ? nr.name()
            : by instanceof Call c && c.callee() instanceof NameRef cn ? cn.name() : "";
    Span sp = r.span();
    Value gates;
    if (mode.equals("topk") || mode.equals("soft")) {
      if (x.type().rank() < 1 || !x.type().dim(x.type().rank() - 1).isKnown()) {
        return el.fail(
            DiagnosticCode.SHAPE_MISMATCH,
            r.input().span(),
            "the routed value needs a known feature size, got " + x.type(),
            null);
      }
      long d = x.type().dim(x.type().rank() - 1).value();
      String router = "Router_" + body.routeCount++;
      String key = router + ".weight";
      Value w = body.params.get(key);
      if (w == null) {
        w =
            el.params()
                .createParam(
                    body.child(key),
                    TensorType.of(x.type().dtype(), d, n),
                    () -> new InitV("xavier", List.of()),
                    body.trainable,
                    sp,
                    sp);
        body.params.put(key, w);
      }
      int last = x.type().rank() - 1;
      Value p =
          el.node(Op.SOFTMAX, Attrs.of("axis", last), sp, el.node(Op.MATMUL, Attrs.NONE, sp, x, w));
      if (mode.equals("soft")) {
        if (by instanceof Call) {
          return el.fail(DiagnosticCode.ARITY, by.span(), "soft takes no arguments", null);
        }
        gates = p;
      } else {
        if (!(by instanceof Call c) || c.args().size() != 1) {
          return el.fail(DiagnosticCode.ARITY, by.span(), "topk needs k: by topk(2)", null);
        }
        long k =
            el.intValue(el.eval(((Call) by).args().get(0).value(), body, null), by.span(), "k");
        if (k < 1 || k > n) {
          return el.fail(
              DiagnosticCode.BAD_DIM,
              by.span(),
              "topk(" + k + ") needs 1 <= k <= " + n + " (the number of experts)",
              null);
        }
        dev.cmod.ir.graph.Node top = el.nodeMulti(Op.TOPK, Attrs.of("k", k, "axis", last), sp, p);
        Value vals = top.out(0);
        Value norm =
            el.node(
                Op.DIV,
                Attrs.NONE,
                sp,
                vals,
                el.node(Op.REDUCE_SUM, Attrs.of("axis", last, "keep", true), sp, vals));
        Value hot = el.node(Op.ONE_HOT, Attrs.of("n", (long) n), sp, top.out(1)); // [..., k, n]
        Value weighted =
            el.node(
                Op.MUL,
                Attrs.NONE,
                sp,
                hot,
                el.node(Op.UNSQUEEZE, Attrs.of("axis", last + 1), sp, norm));
        gates =
            el.node(Op.REDUCE_SUM, Attrs.of("axis", last, "keep", false), sp, weighted); // [..., n]
      }
    } else if (mode.equals("index")) {
      if (!(by instanceof Call c) || c.args().size() != 1) {
        return el.fail(
            DiagnosticCode.ARITY,
            by.span(),
            "index needs the selecting input: by index(lang)",
            null);
      }
      Value idx =
          el.tensorOf(
              el.eval(((Call) by).args().get(0).value(), body, null), by.span(), "the index");
      if (!idx.type().dtype().isInteger() || idx.type().rank() != 1) {
        return el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            by.span(),
            "index(i) needs one integer per example (i64[batch], e.g. a Class input), got "
                + idx.type(),
            null);
      }
      gates = el.node(Op.ONE_HOT, Attrs.of("n", (long) n), sp, idx); // [batch, n]
      for (int i = 1; i < x.type().rank() - 1; i++) {
        gates = el.node(Op.UNSQUEEZE, Attrs.of("axis", 1), sp, gates);
      }
      if (x.type().dtype() != gates.type().dtype()) {
        gates = el.node(Op.CAST, Attrs.of("to", x.type().dtype()), sp, gates);
      }
    } else {
      return el.fail(
          DiagnosticCode.UNKNOWN_NAME,
          by.span(),
          "unknown routing '" + mode + "'",
          "use topk(k), soft or index(i)");
    }
    List<Value> operands = new ArrayList<>();
    operands.add(gates);
    // the ids of the dense form's nodes (slice, mul, add per expert), taken where each would be
    // made: the lowering builds them with these ids, the last one with the route's own
    long[] ids = new long[3 * n - 2];
    int taken = 0;
    TensorType first = null;
    int gl = gates.type().rank() - 1;
    for (int e = 0; e < n; e++) {
      Value y =
          el.tensorOf(
              el.applyTo(list.items().get(e), new TensorV(x), r.experts().span(), body),
              r.experts().span(),
              "expert " + e);
      if (first == null) {
        first = y.type();
        // the dense form's shape rules, checked where the first expert's term would be made
        TensorType g =
            el.infer(
                    Op.SLICE,
                    Attrs.of("axis", gl, "start", Dim.of(e), "end", Dim.of(e + 1)),
                    sp,
                    gates.type())
                .get(0);
        el.infer(Op.MUL, Attrs.NONE, sp, y.type(), g);
      } else if (!first.equals(y.type())) {
        return el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            r.experts().span(),
            "experts must all give the same type: expert 0 gives "
                + first
                + " but expert "
                + e
                + " gives "
                + y.type(),
            "route between instances of modules with the same output");
      }
      operands.add(y);
      int nodes = (e == 0 ? 2 : 3) - (e == n - 1 ? 1 : 0);
      for (int k = 0; k < nodes; k++) {
        ids[taken++] = el.graph().reserveId();
      }
    }
    return new TensorV(
        el.node(Op.ROUTE, Attrs.of("mode", mode, "ids", ids), sp, operands.toArray(new Value[0])));
  }
}
