package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Evaluates statements and expressions: literals, names, members, calls, pipes, conditionals and
 * tuples, and hands each other form (repeat, route, with) to the part that owns it. One job: the
 * walk over expression syntax; what a call applies is decided by {@link Modules}.
 */
final class Evaluator {
  private final ElabContext el;
  private final Modules modules;
  private final Routing routing;
  private final Compositions compositions;
  private final Params params;

  Evaluator(
      ElabContext el, Modules modules, Routing routing, Compositions compositions, Params params) {
    this.el = el;
    this.modules = modules;
    this.routing = routing;
    this.compositions = compositions;
    this.params = params;
  }

  /** Runs a statement; returns the value of an expression or return statement, else null. */
  Val exec(Stmt s, Body body) {
    try {
      return execInner(s, body);
    } catch (ArithmeticException e) {
      return overflow(s.span(), e);
    }
  }

  /**
   * Sizes are 64-bit: a computation that overflows (absurd dims) is a located limit error, not a
   * crash.
   */
  private Val overflow(Span span, ArithmeticException e) {
    return el.fail(
        DiagnosticCode.LIMIT,
        span,
        "a size computed here does not fit in 64 bits (" + e.getMessage() + ")",
        "use smaller dims");
  }

  private Val execInner(Stmt s, Body body) {
    if (s instanceof LetStmt l) {
      String name = l.name().text();
      if (body.env.definesLocally(name)) {
        el.diags()
            .error(
                DiagnosticCode.DUPLICATE,
                l.name().span(),
                "'" + name + "' is already defined in this body",
                "choose another name");
      }
      Val v;
      try {
        v = eval(l.value(), body, name);
        if (l.type() != null && v instanceof TensorV t) {
          TypeMatch.match(
              l.type(), t.type(), new Env(body.env), el, l.value().span(), "'" + name + "'");
        }
      } catch (ElabError e) {
        v = new ErrorV();
      }
      body.env.define(name, v);
      return null;
    } else if (s instanceof LetTupleStmt l) {
      Val v;
      try {
        v = eval(l.value(), body, null);
      } catch (ElabError e) {
        v = new ErrorV();
      }
      List<Val> items =
          v instanceof TupleV t ? t.items() : v instanceof ListV li ? li.items() : null;
      if (items == null && !(v instanceof ErrorV)) {
        el.diags()
            .error(
                DiagnosticCode.TYPE_MISMATCH,
                l.value().span(),
                "expected a tuple of " + l.names().size() + " values, got " + Val.describe(v));
      } else if (items != null && items.size() != l.names().size()) {
        el.diags()
            .error(
                DiagnosticCode.ARITY,
                l.value().span(),
                "expected " + l.names().size() + " values, got " + items.size());
        items = null;
      }
      for (int i = 0; i < l.names().size(); i++) {
        body.env.define(l.names().get(i).text(), items == null ? new ErrorV() : items.get(i));
      }
      return null;
    } else if (s instanceof ParamStmt p) {
      try {
        params.param(p, body);
      } catch (ElabError e) {
        body.env.define(p.name().text(), new ErrorV());
      }
      return null;
    } else if (s instanceof ReturnStmt r) {
      return eval(r.value(), body, null);
    } else if (s instanceof ExprStmt e) {
      return eval(e.expr(), body, null);
    }
    throw new IllegalStateException("unhandled statement " + s);
  }

  /** Evaluates an expression; {@code bindName} names an instance created by a let binding. */
  Val eval(Expr e, Body body, String bindName) {
    if (e instanceof IntLit i) {
      return IntV.of(i.value());
    } else if (e instanceof FloatLit f) {
      return new FloatV(f.value());
    } else if (e instanceof StringLit s) {
      return new StrV(s.value());
    } else if (e instanceof BoolLit b) {
      return new BoolV(b.value());
    } else if (e instanceof NoneLit) {
      return new NoneV();
    } else if (e instanceof NameRef n) {
      return name(n, body, bindName);
    } else if (e instanceof ListExpr l) {
      List<Val> items = new ArrayList<>();
      for (int i = 0; i < l.items().size(); i++) {
        items.add(eval(l.items().get(i), body, bindName == null ? null : bindName + "." + i));
      }
      return new ListV(items);
    } else if (e instanceof Member m) {
      return member(m, body);
    } else if (e instanceof TupleIndex t) {
      return tupleIndex(t, body);
    } else if (e instanceof Call c) {
      return call(c, body, bindName, null);
    } else if (e instanceof Unary u) {
      return Arith.neg(eval(u.operand(), body, null), u.span(), el);
    } else if (e instanceof Binary b) {
      return Arith.binary(
          b.op(),
          eval(b.left(), body, null),
          eval(b.right(), body, null),
          b.opSpan(),
          b.span(),
          el,
          bindName);
    } else if (e instanceof Pipe p) {
      return pipe(p, body);
    } else if (e instanceof If i) {
      Val c = eval(i.cond(), body, null);
      if (!(c instanceof BoolV bv)) {
        return el.fail(
            DiagnosticCode.NOT_CONSTANT,
            i.cond().span(),
            "the condition of if must be known at compile time, got " + Val.describe(c),
            "use where(cond, a, b) to choose per element");
      }
      return eval(bv.value() ? i.then() : i.otherwise(), body, bindName);
    } else if (e instanceof Repeat r) {
      return modules.repeat(r, body, bindName);
    } else if (e instanceof Freeze f) {
      return freeze(f, body, bindName);
    } else if (e instanceof Route r) {
      return routing.route(r, body);
    } else if (e instanceof With w) {
      return compositions.with(w, body, bindName);
    }
    throw new IllegalStateException("unhandled expression " + e);
  }

  private Val tupleIndex(TupleIndex t, Body body) {
    Val v = eval(t.target(), body, null);
    List<Val> items =
        v instanceof TupleV tv ? tv.items() : v instanceof ListV lv ? lv.items() : null;
    if (items == null) {
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          t.span(),
          "." + t.index() + " needs a tuple or list, got " + Val.describe(v),
          null);
    }
    if (t.index() >= items.size()) {
      return el.fail(
          DiagnosticCode.ARITY,
          t.span(),
          "index " + t.index() + " is out of range for " + items.size() + " values",
          null);
    }
    return items.get(t.index());
  }

  /**
   * {@code frozen x} / {@code trainable x}: marks instances (and an adapted instance's base and
   * factors).
   */
  private Val freeze(Freeze f, Body body, String bindName) {
    Val v = eval(f.target(), body, bindName);
    boolean t = f.trainable();
    if (v instanceof InstanceV iv) {
      iv.inst().trainable = t;
    } else if (v instanceof StackV sv) {
      sv.layers().forEach(x -> x.trainable = t);
    } else if (v instanceof AdaptedV av) {
      if (av.target() instanceof InstanceV ti) {
        ti.inst().trainable = t;
      } else if (av.target() instanceof StackV ts) {
        ts.layers().forEach(x -> x.trainable = t);
      }
      av.rules().forEach(r -> r.trainable = t);
    } else if (!(v instanceof ErrorV)) {
      String word = t ? "trainable" : "frozen";
      el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          f.span(),
          word + " applies to module instances, not " + Val.describe(v),
          v instanceof ModuleV m
              ? "instantiate it: " + word + " " + m.def().name() + "(...)"
              : null);
    }
    return v;
  }

  private Val name(NameRef n, Body body, String bindName) {
    Val v = body.env.lookup(n.name());
    if (v != null) {
      if (v instanceof ModuleV m && !m.def().decl().hasHyperList()) {
        // a module without hyperparameters is an instance wherever it is used
        String name = bindName != null ? bindName : instanceName(n, body, m.def());
        return new InstanceV(modules.instantiate(m.def(), List.of(), n.span(), name, body));
      }
      return v;
    }
    if (Builtins.isBuiltin(n.name())) {
      return new FuncV(n.name());
    }
    if (el.diags().saturated()) {
      // past the errors that are shown: no suggestion work for the ones only counted
      return el.fail(
          DiagnosticCode.UNKNOWN_NAME, n.span(), "unknown name '" + n.name() + "'", null);
    }
    Set<String> cands = new java.util.TreeSet<>(body.env.visibleNames());
    cands.addAll(Builtins.names());
    String near = Suggest.closest(n.name(), cands);
    String help = near != null ? "did you mean '" + near + "'?" : null;
    Map<String, String> std = StdIndex.modules();
    String stdNear = std.containsKey(n.name()) ? n.name() : Suggest.closest(n.name(), std.keySet());
    if (near == null && stdNear != null) {
      help =
          (stdNear.equals(n.name()) ? "" : "did you mean '" + stdNear + "'? ")
              + "it is in "
              + std.get(stdNear)
              + ": import "
              + std.get(stdNear)
              + ".{"
              + stdNear
              + "}";
    }
    return el.fail(DiagnosticCode.UNKNOWN_NAME, n.span(), "unknown name '" + n.name() + "'", help);
  }

  private String instanceName(Expr site, Body body, ModuleDef def) {
    String n = body.inlineNames.get(site);
    return n != null ? n : def.name() + "_x" + site.span().start();
  }

  private Val member(Member m, Body body) {
    Val t = eval(m.target(), body, null);
    String f = m.member().text();
    if (t instanceof InitNamespaceV) {
      if (!Inits.KINDS.contains(f)) {
        String near = Suggest.closest(f, Inits.KINDS);
        return el.fail(
            DiagnosticCode.UNKNOWN_NAME,
            m.member().span(),
            "unknown initializer 'init." + f + "'",
            near != null
                ? "did you mean 'init." + near + "'?"
                : "available: " + String.join(", ", Inits.KINDS));
      }
      return new InitV(f, List.of());
    }
    if (t instanceof TupleV tv && tv.names().contains(f)) {
      return tv.items().get(tv.names().indexOf(f));
    }
    if (t instanceof InstanceV iv) {
      Value p = iv.inst().params.get(f);
      if (p != null) {
        return new TensorV(p);
      }
      return el.fail(
          DiagnosticCode.UNKNOWN_NAME,
          m.member().span(),
          "instance '"
              + iv.inst().path
              + "' has no parameter '"
              + f
              + "' (yet: parameters exist after the first application)",
          null);
    }
    if (t instanceof TensorV tv && f.equals("T")) {
      int r = tv.type().rank();
      if (r < 2) {
        return el.fail(
            DiagnosticCode.SHAPE_MISMATCH,
            m.span(),
            ".T needs at least 2 axes, got " + tv.type(),
            null);
      }
      long[] perm = new long[r];
      for (int i = 0; i < r; i++) {
        perm[i] = i;
      }
      perm[r - 1] = r - 2;
      perm[r - 2] = r - 1;
      return new TensorV(el.node(Op.TRANSPOSE, Attrs.of("perm", perm), m.span(), tv.value()));
    }
    if (t instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    return el.fail(
        DiagnosticCode.UNKNOWN_NAME,
        m.member().span(),
        Val.describe(t) + " has no member '" + f + "'",
        null);
  }

  /**
   * A call; {@code piped} is the left side of {@code x |> f(...)} (inserted as the first argument
   * of a builtin).
   */
  Val call(Call c, Body body, String bindName, Val piped) {
    String merge =
        c.callee() instanceof NameRef n
                && body.env.lookup(n.name()) == null
                && Merges.NAMES.contains(n.name())
            ? n.name()
            : null;
    Val callee =
        merge != null
            ? null
            : c.callee() instanceof NameRef n
                    && body.env.lookup(n.name()) == null
                    && Builtins.isBuiltin(n.name())
                ? new FuncV(n.name())
                : eval(c.callee(), body, null);
    List<Val> pos = new ArrayList<>();
    Map<String, Val> named = new LinkedHashMap<>();
    Map<String, Span> namedSpans = new HashMap<>();
    List<Span> posSpans = new ArrayList<>();
    if (piped != null && callee instanceof FuncV) {
      pos.add(piped);
      posSpans.add(c.span());
    }
    for (Arg a : c.args()) {
      Val v = eval(a.value(), body, null);
      if (a.name() != null) {
        if (named.put(a.name().text(), v) != null) {
          el.fail(
              DiagnosticCode.DUPLICATE,
              a.name().span(),
              "argument '" + a.name().text() + "' is given twice",
              null);
        }
        namedSpans.put(a.name().text(), a.name().span());
      } else {
        pos.add(v);
        posSpans.add(a.value().span());
      }
    }
    Args args = new Args(pos, posSpans, named, namedSpans, c.span());
    if (merge != null && piped == null) {
      return Merges.call(merge, args, bindName, el);
    }
    if (callee instanceof ModuleV m) {
      String name = bindName != null ? bindName : instanceName(c, body, m.def());
      return new InstanceV(el.instantiate(m.def(), args, name, body));
    } else if (callee instanceof InitV init) {
      List<Double> nums = new ArrayList<>();
      for (int k = 0; k < pos.size(); k++) {
        nums.add(el.number(pos.get(k), posSpans.get(k), "initializer argument"));
      }
      for (Map.Entry<String, Val> e : named.entrySet()) {
        nums.add(el.number(e.getValue(), namedSpans.get(e.getKey()), "initializer argument"));
      }
      return new InitV(init.kind(), nums);
    }
    if (piped != null && !(callee instanceof FuncV)) {
      return el.fail(
          DiagnosticCode.NOT_CALLABLE, c.span(), "cannot pipe into the result of a call", null);
    }
    Val result = el.applyArgs(callee, args, body);
    if (result == null) {
      return el.fail(
          DiagnosticCode.NOT_CALLABLE,
          c.callee().span(),
          Val.describe(callee) + " cannot be called",
          null);
    }
    return result;
  }

  private Val pipe(Pipe p, Body body) {
    Val x = eval(p.left(), body, null);
    Expr r = p.right();
    if (r instanceof Call c) {
      boolean builtinCall =
          c.callee() instanceof NameRef n
              && body.env.lookup(n.name()) == null
              && Builtins.isBuiltin(n.name());
      if (builtinCall) {
        return call(c, body, null, x);
      }
    }
    Val f = eval(r, body, null);
    if (f instanceof ModuleV m) {
      return el.fail(
          DiagnosticCode.ARITY,
          r.span(),
          "module " + m.def().name() + " needs its hyperparameters before it can be applied",
          "write " + m.def().name() + "(...)");
    }
    Args args = new Args(List.of(x), List.of(p.left().span()), Map.of(), Map.of(), p.span());
    Val applied = el.applyArgs(f, args, body);
    if (applied != null) {
      return applied;
    }
    return el.fail(
        DiagnosticCode.NOT_CALLABLE,
        r.span(),
        "cannot pipe into " + Val.describe(f),
        "the right side of |> must be a function, a module instance or a call of a builtin");
  }
}
