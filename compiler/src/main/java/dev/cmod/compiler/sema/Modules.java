package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.graph.Value;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Module application and instances: instantiating a module, applying an instance, a repeat stack,
 * an adapted instance, an imported ONNX model or an arithmetic instance to arguments (the body runs
 * inline), and checking the result against the declaration. One job: application; binding the
 * arguments is {@link ParamBinding}'s, the statements are run through {@link ElabContext#exec}.
 */
final class Modules {
  private final ElabContext el;
  private final Builtins builtins;

  /**
   * Where the module applications in progress were written, outermost first (for "in ... applied
   * here" notes); shared with the error reporting of {@link ElabContext#fail}.
   */
  private final java.util.ArrayDeque<Span> applySites;

  private final Map<ModuleDecl, IdentityHashMap<Expr, String>> inlineNameCache =
      new IdentityHashMap<>();
  private int instances;

  /**
   * Product of the sizes of the repeat stacks being applied now: a repeat inside them makes that
   * many times its copies.
   */
  private long repeatProduct = 1;

  private int applyDepth;

  Modules(ElabContext el, java.util.ArrayDeque<Span> applySites) {
    this.el = el;
    this.applySites = applySites;
    this.builtins = new Builtins(el);
  }

  /** Applies anything applicable to arguments; null when {@code f} cannot be applied. */
  Val applyArgs(Val f, Args args, Body body) {
    if (f instanceof InstanceV i) {
      return apply(i.inst(), args, body);
    } else if (f instanceof StackV s) {
      return applyStack(s, args, body);
    } else if (f instanceof AdaptedV a) {
      return applyAdapted(a, args, body);
    } else if (f instanceof ImportedV im) {
      return applyImported(im, args, body);
    } else if (f instanceof ArithV av) {
      return ArithSpec.apply(av, args, body, el);
    } else if (f instanceof FuncV fn) {
      return builtins.call(fn.name(), args, body);
    } else if (f instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    return null;
  }

  Instance instantiate(ModuleDef def, List<Val> noArgs, Span span, String name, Body body) {
    return instantiate(def, new Args(noArgs, List.of(), Map.of(), Map.of(), span), name, body);
  }

  Instance instantiate(ModuleDef def, Args args, String name, Body body) {
    ModuleDecl d = def.decl();
    String path = body.child(name);
    Instance existing = body.children.get(path);
    if (existing != null && existing.def.decl() == d) {
      return existing; // the enclosing body runs again (its instance is applied once more): same
      // parameters
    }
    if (Thread.currentThread().isInterrupted()) {
      el.fail(DiagnosticCode.LIMIT, args.span(), "the compilation was cancelled", null);
    }
    if (++instances > Limits.MAX_INSTANCES) {
      el.fail(
          DiagnosticCode.LIMIT,
          args.span(),
          "the model would create more than "
              + Limits.MAX_INSTANCES
              + " module instances (nested repeats multiply: this one is "
              + Excerpt.of(path, 120)
              + ")",
          "use fewer or smaller repeats");
    }
    Env env = new Env(def.scope().env);
    ParamBinding.bindParams(d.hyper(), args, env, "hyperparameter", def.name(), true, el);
    Instance inst = new Instance(def, path, env);
    body.children.put(path, inst);
    return inst;
  }

  /** Applies an instance to arguments: binds them, runs the body inline, checks the result type. */
  Val apply(Instance inst, Args args, Body caller) {
    return apply(inst, args, caller, caller.hooks);
  }

  Val apply(Instance inst, Args args, Body caller, List<Adaptation> hooks) {
    applySites.addLast(args.span());
    try {
      return applyInner(inst, args, caller, hooks);
    } finally {
      applySites.removeLast();
    }
  }

  private Val applyInner(Instance inst, Args args, Body caller, List<Adaptation> hooks) {
    ModuleDecl d = inst.def.decl();
    if (++applyDepth > Limits.MAX_APPLY_DEPTH) {
      applyDepth = 0;
      el.fail(
          DiagnosticCode.RECURSION,
          args.span(),
          "module applications nest deeper than "
              + Limits.MAX_APPLY_DEPTH
              + " (is "
              + inst.def.name()
              + " recursive?)",
          "use repeat(n) M(...) to stack copies");
    }
    try {
      Env env = new Env(inst.hyperEnv);
      ParamBinding.bindParams(d.args(), args, env, "argument", inst.def.name(), false, el);
      IdentityHashMap<Expr, String> names =
          inlineNameCache.computeIfAbsent(
              d, k -> InlineNames.compute(k.body().stmts(), List.of(), inst.def.scope().env));
      boolean trainable = inst.trainable != null ? inst.trainable : caller.trainable;
      Body body = new Body(inst.path, env, names, inst.params, inst.children, trainable);
      body.hooks = hooks;
      body.arith = inst.arith != null ? inst.arith : caller.arith;
      Val result = null;
      boolean failed = false;
      for (Stmt s : d.body().stmts()) {
        try {
          result = el.exec(s, body);
        } catch (ElabError e) {
          failed = true;
          result = new ErrorV();
        }
        if (s instanceof ReturnStmt) {
          break;
        }
      }
      if (failed) {
        throw ElabError.INSTANCE;
      }
      if (result == null) {
        return el.fail(
            DiagnosticCode.NO_RESULT,
            d.name().span(),
            "module " + inst.def.name() + " ends without a result expression",
            "end the body with an expression or a return");
      }
      Val checked = checkResult(inst, d, result, env, args.span());
      inst.applied = true;
      if (!inst.controls.isEmpty() && checked instanceof TensorV ct) {
        checked = new TensorV(Conditions.control(inst, ct.value(), args.span(), el));
      }
      // the module's first argument, however it was passed (by position or by name)
      Val first = d.args().isEmpty() ? null : env.lookup(d.args().get(0).name().text());
      if (!hooks.isEmpty() && checked instanceof TensorV ty && first instanceof TensorV tx) {
        return new TensorV(
            Adaptation.wrapResult(inst.path, tx.value(), ty.value(), hooks, el, args.span()));
      }
      return checked;
    } finally {
      applyDepth = Math.max(0, applyDepth - 1);
    }
  }

  private Val checkResult(Instance inst, ModuleDecl d, Val result, Env env, Span callSpan) {
    if (d.result().isEmpty()) {
      return result;
    }
    if (d.result().size() == 1 && d.result().get(0).name() == null) {
      if (result instanceof TensorV tv) {
        TypeMatch.match(
            d.result().get(0).type(),
            tv.type(),
            env,
            el,
            callSpan,
            "the result of "
                + inst.def.name()
                + " (declared at "
                + d.result().get(0).type().span()
                + ")");
      }
      return result;
    }
    List<Val> items =
        result instanceof TupleV t ? t.items() : result instanceof ListV l ? l.items() : null;
    if (items == null || items.size() != d.result().size()) {
      return el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          d.body().span(),
          inst.def.name()
              + " declares "
              + d.result().size()
              + " results but its body gives "
              + Val.describe(result),
          "end the body with a list of results [a, b]");
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      ResultField f = d.result().get(i);
      names.add(f.name().text());
      if (items.get(i) instanceof TensorV tv) {
        TypeMatch.match(
            f.type(),
            tv.type(),
            env,
            el,
            callSpan,
            "result '" + f.name().text() + "' of " + inst.def.name());
      }
    }
    return new TupleV(items, names);
  }

  private Val applyStack(StackV s, Args args, Body body) {
    return applyStack(s, args, body, body.hooks);
  }

  private Val applyStack(StackV s, Args args, Body body, List<Adaptation> hooks) {
    if (args.pos().size() != 1 || !args.named().isEmpty()) {
      return el.fail(
          DiagnosticCode.ARITY, args.span(), "a repeat stack takes exactly one input", null);
    }
    Val x = args.pos().get(0);
    long outer = repeatProduct;
    // repeatProduct <= Limits.MAX_INSTANCES and a stack has at most 4096 layers: no overflow
    repeatProduct =
        Math.min(outer * Math.max(1, s.layers().size()), (long) Limits.MAX_INSTANCES + 1);
    try {
      for (Instance layer : s.layers()) {
        x =
            apply(
                layer,
                new Args(List.of(x), args.posSpans(), Map.of(), Map.of(), args.span()),
                body,
                hooks);
      }
    } finally {
      repeatProduct = outer;
    }
    return x;
  }

  Val repeat(Repeat r, Body body, String bindName) {
    Val n = el.eval(r.count(), body, null);
    long count = el.intValue(n, r.count().span(), "repeat count");
    if (count < 1 || count > 4096) {
      return el.fail(
          DiagnosticCode.BAD_DIM,
          r.count().span(),
          "repeat count must be between 1 and 4096, got " + count,
          null);
    }
    if (repeatProduct * count > Limits.MAX_INSTANCES) {
      // nested repeats multiply: refuse at once, before the copies are made
      return el.fail(
          DiagnosticCode.LIMIT,
          r.count().span(),
          "repeat("
              + count
              + ") inside repeats of "
              + repeatProduct
              + " copies would make "
              + repeatProduct * count
              + " copies, more than the "
              + Limits.MAX_INSTANCES
              + " module instances a model may have",
          "use fewer or smaller repeats");
    }
    String base =
        bindName != null
            ? bindName
            : body.inlineNames.getOrDefault(r, "Repeat_x" + r.span().start());
    Expr inner = r.body();
    List<Instance> layers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Val v;
      if (inner instanceof Call c && evalsToModule(c.callee(), body)) {
        v = el.call(c, body, base + "." + i, null);
      } else if (inner instanceof NameRef nr && body.env.lookup(nr.name()) instanceof ModuleV m) {
        v = new InstanceV(instantiate(m.def(), List.of(), nr.span(), base + "." + i, body));
      } else {
        v = el.eval(inner, body, null);
      }
      if (!(v instanceof InstanceV iv)) {
        return el.fail(
            DiagnosticCode.TYPE_MISMATCH,
            inner.span(),
            "repeat(n) needs a module instantiation such as Block(64), got " + Val.describe(v),
            null);
      }
      layers.add(iv.inst());
    }
    return new StackV(layers);
  }

  private boolean evalsToModule(Expr callee, Body body) {
    return callee instanceof NameRef n && body.env.lookup(n.name()) instanceof ModuleV;
  }

  /**
   * Applies a model from {@code import onnx}: its inputs are fed in order (or by input name), its
   * weights become frozen parameters under the import's name, shared by every application.
   */
  /**
   * An argument of an imported model: a tensor, or a number given for a scalar input (a sample
   * rate, a threshold), which becomes a constant of the input's element type — the value must fit
   * it exactly (an integer for an integer type).
   */
  private Value importArg(Val v, dev.cmod.ir.type.TensorType want, Span span, String what) {
    boolean number = v instanceof Val.IntV i ? i.dim().isKnown() : v instanceof Val.FloatV;
    if (!number || want.rank() != 0) {
      return el.tensorOf(v, span, what);
    }
    dev.cmod.ir.type.DType dt = want.dtype();
    double x = el.number(v, span, what);
    dev.cmod.ir.tensor.Tensor t;
    if (dt.isFloat()) {
      t =
          dt == dev.cmod.ir.type.DType.F64
              ? dev.cmod.ir.tensor.Tensor.ofDoubles(new long[0], new double[] {x})
              : dev.cmod.ir.tensor.Tensor.ofFloats(dt, new long[0], new float[] {(float) x});
    } else if (v instanceof Val.IntV i
        && dt != dev.cmod.ir.type.DType.BOOL
        && dt.wrap(i.dim().value()) == i.dim().value()) {
      t = dev.cmod.ir.tensor.Tensor.ofLongs(dt, new long[0], new long[] {i.dim().value()});
    } else {
      el.fail(
          DiagnosticCode.TYPE_MISMATCH,
          span,
          what + " is a scalar of type " + dt + ", and " + Val.describe(v) + " is not one",
          null);
      return null;
    }
    return el.graph().addConst(t, span.toLoc());
  }

  private Val applyImported(ImportedV im, Args args, Body body) {
    dev.cmod.ir.graph.ImportedModule m = im.module();
    List<String> names = m.inputNames();
    Value[] in = new Value[names.size()];
    if (args.pos().size() > names.size()) {
      return el.fail(
          DiagnosticCode.ARITY,
          args.span(),
          im.name()
              + " takes "
              + names.size()
              + " input(s) "
              + names
              + ", got "
              + args.pos().size(),
          null);
    }
    for (int i = 0; i < args.pos().size(); i++) {
      in[i] =
          importArg(
              args.pos().get(i),
              m.inputTypes().get(i),
              args.posSpans().get(i),
              "input '" + names.get(i) + "' of " + im.name());
    }
    for (Map.Entry<String, Val> e : args.named().entrySet()) {
      int i = names.indexOf(e.getKey());
      if (i < 0) {
        String near = Suggest.closest(e.getKey(), names);
        return el.fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            args.namedSpans().get(e.getKey()),
            im.name() + " has no input '" + e.getKey() + "'",
            near != null ? "did you mean '" + near + "'?" : "its inputs are " + names);
      }
      in[i] =
          importArg(
              e.getValue(),
              m.inputTypes().get(i),
              args.namedSpans().get(e.getKey()),
              "input '" + e.getKey() + "' of " + im.name());
    }
    for (int i = 0; i < in.length; i++) {
      if (in[i] == null) {
        return el.fail(
            DiagnosticCode.ARITY,
            args.span(),
            im.name()
                + " is missing its input '"
                + names.get(i)
                + "' ("
                + m.inputTypes().get(i)
                + ")",
            "its inputs are " + names);
      }
    }
    List<Value> outs;
    try {
      outs = m.apply(el.graph(), List.of(in), body.child(im.name()), args.span().toLoc());
    } catch (ShapeException e) {
      return el.fail(
          DiagnosticCode.SHAPE_MISMATCH,
          args.span(),
          im.name() + ": " + e.getMessage(),
          "its inputs are " + names + " of types " + m.inputTypes());
    } catch (dev.cmod.ir.graph.ImportedModule.ImportException e) {
      return el.fail(
          DiagnosticCode.ONNX_FILE, args.span(), im.name() + ": " + e.getMessage(), null);
    }
    if (outs.size() == 1) {
      return new TensorV(outs.get(0));
    }
    List<Val> items = new ArrayList<>();
    outs.forEach(v -> items.add(new TensorV(v)));
    return new TupleV(items, m.outputNames());
  }

  /**
   * An imported model with parameter compositions (LoRA, IA³ on its 2-D weights): the model is
   * added as usual, then each weight a composition targets is replaced, in the nodes that read it,
   * by the composed weight.
   */
  private Val applyImportedAdapted(ImportedV im, Args args, Body caller, List<Adaptation> hooks) {
    Set<dev.cmod.ir.graph.Node> before =
        java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    before.addAll(el.graph().nodes());
    Val r = applyImported(im, args, caller);
    String prefix = caller.child(im.name()) + ".";
    for (dev.cmod.ir.graph.Node n : el.graph().nodes()) {
      if (n.op() != Op.PARAM || !n.attrs().getString("path").startsWith(prefix)) {
        continue;
      }
      // only this application's nodes read the composed weight (the parameter may be shared)
      List<dev.cmod.ir.graph.Node> readers = new ArrayList<>(el.graph().users(n));
      readers.removeIf(before::contains);
      if (readers.isEmpty()) {
        continue;
      }
      Value w = Adaptation.adapt(n.out(), n.attrs().getString("path"), hooks, el, args.span());
      if (w != n.out()) {
        el.graph().replaceUsesBy(n.out(), w, readers);
      }
    }
    return r;
  }

  private Val applyAdapted(AdaptedV a, Args args, Body caller) {
    List<Adaptation> hooks = new ArrayList<>(caller.hooks);
    hooks.addAll(a.rules());
    for (Adaptation rule : a.rules()) {
      if (rule.kind == Adaptation.Kind.PROMPT) {
        if (args.pos().isEmpty() || !(args.pos().get(0) instanceof TensorV tv)) {
          return el.fail(
              DiagnosticCode.TYPE_MISMATCH,
              args.span(),
              "prompt tuning prepends to a tensor sequence argument",
              null);
        }
        List<Val> pos = new ArrayList<>(args.pos());
        pos.set(0, new TensorV(rule.prompt(tv.value(), el, args.span())));
        args = new Args(pos, args.posSpans(), args.named(), args.namedSpans(), args.span());
      }
    }
    Val r;
    if (a.target() instanceof InstanceV i) {
      r = apply(i.inst(), args, caller, hooks);
    } else if (a.target() instanceof ImportedV im) {
      r = applyImportedAdapted(im, args, caller, hooks);
    } else {
      r = applyStack((StackV) a.target(), args, caller, hooks);
    }
    if (!a.checked()[0]) {
      a.checked()[0] = true;
      int before = el.diags().errorCount();
      for (Adaptation rule : a.rules()) {
        rule.checkMatched(el);
      }
      if (el.diags().errorCount() > before) {
        throw ElabError.INSTANCE;
      }
    }
    return r;
  }
}
