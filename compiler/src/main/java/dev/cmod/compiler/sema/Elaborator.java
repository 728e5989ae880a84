package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.ShapeException;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Type-checks a model and lowers it to the IR in one walk ("elaboration"): compile-time values
 * (hyperparameters, sizes, conditions, lists, instances) are computed; every tensor operation
 * becomes an IR node whose shape is inferred and checked on the spot. Module applications are
 * inlined; an instance's parameters are created on its first application and shared after. Errors
 * are reported with source spans and evaluation resumes at the next statement.
 */
public final class Elaborator {
  /** Largest number of elements of one parameter. */
  public static final long MAX_PARAM_ELEMENTS = 1L << 28;

  /** Largest number of parameter elements of one model (1 GiB of f32). */
  public static final long MAX_TOTAL_PARAM_ELEMENTS = 1L << 28;

  /**
   * The parameter elements one model may have with this JVM's heap: at most {@link
   * #MAX_TOTAL_PARAM_ELEMENTS}, and at most one per 16 bytes of the maximum heap (a parameter's
   * value, its copy in the ONNX protobuf and the serialized file each take 4 bytes), so that
   * emitting a model that compiled cannot run out of memory.
   */
  public static long totalParamLimit() {
    return Math.min(MAX_TOTAL_PARAM_ELEMENTS, Runtime.getRuntime().maxMemory() / 16);
  }

  /** Largest number of IR nodes of one model. */
  public static final int MAX_NODES = 1 << 21;

  /**
   * Most module instances one model may create. Nested repeats multiply (repeat(4096) of
   * repeat(4096) ...), so the count is checked as instances are made, long before their nodes would
   * fill the memory.
   */
  public static final int MAX_INSTANCES = 1 << 16;

  private int instances;

  /**
   * Product of the sizes of the repeat stacks being applied now: a repeat inside them makes that
   * many times its copies.
   */
  private long repeatProduct = 1;

  private long totalParamElements;

  /** Deepest nesting of module applications. */
  public static final int MAX_APPLY_DEPTH = 64;

  final Diagnostics diags;
  final CompileOptions opts;
  Graph graph;
  private final Map<ModuleDecl, IdentityHashMap<Expr, String>> inlineNameCache =
      new IdentityHashMap<>();
  private final Set<String> usedWeightKeys = new LinkedHashSet<>();
  private final Builtins builtins;
  private int applyDepth;
  final ModelFacts facts = new ModelFacts();

  public ModelFacts facts() {
    return facts;
  }

  public Elaborator(Diagnostics diags, CompileOptions opts) {
    this.diags = diags;
    this.opts = opts;
    this.builtins = new Builtins(this);
  }

  /**
   * The environment of builtin names: dtypes and the init namespace (functions are resolved by
   * name).
   */
  public static Env builtinEnv() {
    Env e = new Env(null);
    for (DType d : DType.values()) {
      e.define(d.text, new DTypeV(d));
    }
    e.define("init", new InitNamespaceV());
    return e;
  }

  /** Evaluates a const declaration (compile-time values only). */
  public Val evalConst(ConstDecl c, FileScope scope) {
    Body b = Body.bare(scope.env);
    try {
      Val v = eval(c.value(), b, null);
      if (v instanceof TensorV) {
        return fail(
            DiagnosticCode.NOT_CONSTANT,
            c.value().span(),
            "a const must be a compile-time value, not a tensor",
            null);
      }
      return v;
    } catch (ElabError e) {
      return new ErrorV();
    }
  }

  // ------------------------------------------------------------------------------------------
  // models

  /** Elaborates one model into a fresh graph. */
  public Graph elaborateModel(ModelDecl model, FileScope scope) {
    graph = new Graph(model.name().text());
    rootFile = scope.source();
    Env env = new Env(scope.env);
    List<Stmt> stmts = new ArrayList<>();
    List<Expr> extra = new ArrayList<>();
    for (ModelItem it : model.items()) {
      if (it instanceof StmtItem s) {
        stmts.add(s.stmt());
      } else if (it instanceof OutputItem o) {
        extra.add(o.value());
      } else if (it instanceof ConstraintItem c) {
        extra.add(c.expr());
      }
    }
    IdentityHashMap<Expr, String> names = InlineNames.compute(stmts, extra, env);
    Body body = new Body("", env, names, new LinkedHashMap<>(), true);
    for (ModelItem it : model.items()) {
      try {
        if (it instanceof InputItem in) {
          defineOnFailure(in, body);
        } else if (it instanceof OutputItem out) {
          output(out, body);
        } else if (it instanceof StmtItem s) {
          exec(s.stmt(), body);
        } else if (it instanceof ComputeItem c) {
          facts.compute = c.preset().text();
          facts.computeSpan = c.preset().span();
        } else if (it instanceof BudgetItem b) {
          budget(b, body);
        } else if (it instanceof ConstraintItem c) {
          constraint(c, body);
        } else if (it instanceof AlignItem a) {
          align(a, body);
        } else if (it instanceof ConditionItem ci) {
          condition(ci, body);
        }
        // weights items are loaded by the driver before elaboration
      } catch (ArithmeticException e) {
        diags.error(
            DiagnosticCode.LIMIT,
            it.span(),
            "a size computed here does not fit in 64 bits (" + e.getMessage() + ")",
            "use smaller dims");
      } catch (ElabError e) {
        // reported; go on with the next item
      }
    }
    if (graph.outputs().isEmpty() && !diags.hasErrors()) {
      diags.error(
          DiagnosticCode.NO_RESULT,
          model.name().span(),
          "model '" + model.name().text() + "' declares no output",
          "add an output, e.g. output y: Vector[10] = ...");
    }
    return graph;
  }

  /** Weight keys that no parameter claimed (typos), after elaboration. */
  public Set<String> unusedWeightKeys() {
    Set<String> s = new LinkedHashSet<>(opts.weights().keySet());
    s.removeAll(usedWeightKeys);
    return s;
  }

  /**
   * A failed input declaration still defines its name (as an error value), so later uses do not
   * cascade.
   */
  private void defineOnFailure(InputItem in, Body body) {
    try {
      input(in, body);
    } catch (ElabError e) {
      if (!body.env.definesLocally(in.name().text())) {
        body.env.define(in.name().text(), new ErrorV());
      }
      throw e;
    }
  }

  private void input(InputItem in, Body body) {
    String name = in.name().text();
    if (body.env.definesLocally(name)) {
      fail(
          DiagnosticCode.DUPLICATE,
          in.name().span(),
          "'" + name + "' is already declared in this model",
          null);
    }
    Modality.Resolved r = Modality.resolve(in.type(), this, body.env, true);
    TensorType t = r.type();
    for (Expr w : in.where()) {
      facts.recordBound(w, this, body);
    }
    Value v = graph.addInput(name, t, in.span().toLoc());
    body.env.define(name, new TensorV(v));
    facts.inputs.add(new ModelFacts.Port(name, r, in.span()));
  }

  private void output(OutputItem out, Body body) {
    String name = out.name().text();
    Val v =
        out.value() instanceof Call ac
                && ac.callee() instanceof NameRef an
                && an.name().equals("auto")
                && body.env.lookup("auto") == null
            ? autoArchitecture(out, ac, body)
            : eval(out.value(), body, null);
    if (v instanceof ErrorV) {
      return;
    }
    if (graph.outputs().containsKey(name)) {
      fail(
          DiagnosticCode.DUPLICATE,
          out.name().span(),
          "output '" + name + "' is declared twice",
          null);
    }
    Value value = tensorOf(v, out.value().span(), "output '" + name + "'");
    Modality.Resolved declared = null;
    if (out.type() != null) {
      declared = Modality.checkOutput(out.type(), value, this, body.env, out.value().span(), name);
    }
    graph.setOutput(name, value);
    facts.outputs.add(
        new ModelFacts.Port(
            name, declared != null ? declared : Modality.Resolved.plain(value.type()), out.span()));
  }

  /**
   * {@code output y: T = auto(a, b, ...)}: synthesizes the architecture (see {@link AutoSynth}) as
   * cmod source, elaborates it as the instance {@code auto_<output>} and applies it to the inputs.
   */
  private Val autoArchitecture(OutputItem out, Call c, Body body) {
    String name = out.name().text();
    if (!(out.type() instanceof TensorTypeExpr te)) {
      return fail(
          DiagnosticCode.BAD_TYPE,
          out.span(),
          "auto needs the output's type, e.g. output " + name + ": Class[10] = auto(x)",
          null);
    }
    List<ModelFacts.Port> ports = new ArrayList<>();
    List<Val> args = new ArrayList<>();
    List<Span> spans = new ArrayList<>();
    for (Arg a : c.args()) {
      ModelFacts.Port p =
          a.value() instanceof NameRef n && a.name() == null ? facts.input(n.name()) : null;
      if (p == null) {
        return fail(
            DiagnosticCode.TYPE_MISMATCH,
            a.value().span(),
            "auto takes model inputs by name, e.g. auto(image, caption)",
            null);
      }
      ports.add(p);
      args.add(body.env.lookup(p.name()));
      spans.add(a.value().span());
    }
    if (ports.isEmpty()) {
      return fail(DiagnosticCode.ARITY, c.span(), "auto needs at least one input", null);
    }
    String head = te.head().text();
    TensorType outType;
    if (head.equals("Class")) {
      Val n =
          te.dims().size() == 1 && te.dims().get(0) instanceof ExprDim ed
              ? eval(ed.expr(), body, null)
              : null;
      outType =
          TensorType.of(DType.F32, 1, intValue(n, te.span(), "the number of classes"))
              .withDims(
                  List.of(
                      Dim.sym("batch"), Dim.of(intValue(n, te.span(), "the number of classes"))));
    } else {
      outType = Modality.resolve(te, this, new Env(body.env), true).type();
    }
    AutoSynth synth = new AutoSynth(this, c.span());
    String src =
        synth.source(
            ports,
            name,
            outType,
            Modality.shapeOf(head, te.dims().size()) != null ? head : "tensor",
            facts);
    dev.cmod.compiler.diag.SourceFile file =
        new dev.cmod.compiler.diag.SourceFile("auto:" + name, src);
    Loader loader = new Loader(diags, builtinEnv(), this::evalConst);
    FileScope scope = loader.loadRoot(file, null);
    if (scope == null || !(scope.env.lookup("Auto") instanceof ModuleV m)) {
      return fail(
          DiagnosticCode.INTERNAL,
          c.span(),
          "auto produced an architecture that does not compile (a bug in cmod)",
          null);
    }
    facts.auto.put(name, new ModelFacts.Auto(synth.notes(), src));
    Instance inst =
        instantiate(
            m.def(),
            new Args(List.of(), List.of(), Map.of(), Map.of(), c.span()),
            "auto_" + name,
            body);
    return apply(inst, new Args(args, spans, Map.of(), Map.of(), c.span()), body);
  }

  private void budget(BudgetItem b, Body body) {
    for (BudgetEntry e : b.entries()) {
      Val v = eval(e.limit(), body, null);
      double limit = number(v, e.limit().span(), "budget limit");
      facts.budget.put(e.key().text(), new ModelFacts.Limit(limit, e.strict(), e.span()));
      if (!Set.of("params", "flops", "tokens", "memory", "latency").contains(e.key().text())) {
        diags.report(
            new dev.cmod.compiler.diag.Diagnostic(
                DiagnosticCode.UNKNOWN_ARGUMENT,
                dev.cmod.compiler.diag.Severity.WARNING,
                e.key().span(),
                "unknown budget entry '" + e.key().text() + "' is not checked",
                "known entries: params, flops, tokens"));
      }
    }
  }

  private void constraint(ConstraintItem c, Body body) {
    Val v = eval(c.expr(), body, null);
    if (c.name() != null) {
      Value t = tensorOf(v, c.expr().span(), "constraint '" + c.name().text() + "'");
      graph.setOutput(c.name().text(), t);
      facts.outputs.add(
          new ModelFacts.Port(c.name().text(), Modality.Resolved.plain(t.type()), c.span()));
      return;
    }
    if (v instanceof BoolV b) {
      if (!b.value()) {
        String detail = "";
        if (c.expr() instanceof Binary bin) {
          Val l = eval(bin.left(), body, null);
          Val r = eval(bin.right(), body, null);
          detail =
              ": "
                  + TypeMatch.text(bin.left())
                  + " is "
                  + plain(l)
                  + ", not "
                  + bin.op()
                  + " "
                  + plain(r);
        }
        fail(
            DiagnosticCode.BOUND_VIOLATED,
            c.expr().span(),
            "constraint does not hold" + detail,
            null);
      }
    } else if (!(v instanceof ErrorV)) {
      fail(
          DiagnosticCode.NOT_CONSTANT,
          c.expr().span(),
          "an unnamed constraint must be a compile-time condition, got " + Val.describe(v),
          "name it (constraint agree = cosine(a, b)) to add it as a scored output");
    }
  }

  private static String plain(Val v) {
    if (v instanceof IntV i) {
      return i.dim().toString();
    } else if (v instanceof FloatV f) {
      return Double.toString(f.value());
    } else if (v instanceof BoolV b) {
      return Boolean.toString(b.value());
    }
    return Val.describe(v);
  }

  /**
   * {@code condition gen on edges via control(strength = 1.0)} (section 7): every later application
   * of the instance {@code gen} gets {@code strength * proj(edges)} added to its result, where proj
   * is a zero-initialized projection of the condition's feature axis onto the result's (a 1x1
   * convolution for images, a linear map otherwise), so a fresh control branch changes nothing.
   */
  private void condition(ConditionItem ci, Body body) {
    if (!ci.via().text().equals("control")) {
      fail(
          DiagnosticCode.UNSUPPORTED,
          ci.via().span(),
          "condition ... via " + ci.via().text() + "(...) is not supported",
          "use via control(strength = 1.0)");
    }
    double strength = 1.0;
    for (Arg a : ci.args()) {
      if (a.name() != null && !a.name().text().equals("strength")) {
        fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            a.name().span(),
            "control has no parameter '" + a.name().text() + "'",
            "control(strength = 1.0)");
      }
      strength = number(eval(a.value(), body, null), a.value().span(), "control strength");
    }
    Val target = body.env.lookup(ci.target().text());
    if (!(target instanceof InstanceV iv)) {
      fail(
          target == null ? DiagnosticCode.UNKNOWN_NAME : DiagnosticCode.TYPE_MISMATCH,
          ci.target().span(),
          "condition needs a module instance to condition, got "
              + (target == null
                  ? "an unknown name '" + ci.target().text() + "'"
                  : Val.describe(target)),
          "bind it first: let gen = Decoder(...)");
      return;
    }
    if (iv.inst().applied) {
      fail(
          DiagnosticCode.TYPE_MISMATCH,
          ci.span(),
          "'" + ci.target().text() + "' is already applied above this condition",
          "put the condition before the first use of " + ci.target().text());
    }
    Value source =
        tensorOf(
            name(new NameRef(ci.source().text(), ci.source().span()), body, null),
            ci.source().span(),
            "the condition");
    iv.inst().controls.add(new Instance.Control(source, strength, ci.span()));
  }

  /** Adds the instance's control branches to its result. */
  private Value control(Instance inst, Value y, Span span) {
    Value out = y;
    for (int i = 0; i < inst.controls.size(); i++) {
      Instance.Control c = inst.controls.get(i);
      TensorType ty = y.type();
      TensorType tc = c.source().type();
      String base = inst.path + ".control" + (i == 0 ? "" : Integer.toString(i));
      Value proj;
      if (ty.rank() == 4 && tc.rank() == 4 && ty.dim(1).isKnown() && tc.dim(1).isKnown()) {
        long co = ty.dim(1).value();
        long ch = tc.dim(1).value();
        Value w =
            controlParam(inst, base + ".weight", TensorType.of(tc.dtype(), co, ch, 1, 1), c.span());
        Value b = controlParam(inst, base + ".bias", TensorType.of(tc.dtype(), co), c.span());
        proj = node(Op.CONV2D, Attrs.of("stride", 1L, "padding", 0L), c.span(), c.source(), w, b);
      } else {
        if (ty.rank() == 0
            || tc.rank() == 0
            || !ty.dim(ty.rank() - 1).isKnown()
            || !tc.dim(tc.rank() - 1).isKnown()) {
          fail(
              DiagnosticCode.SHAPE_MISMATCH,
              c.span(),
              "control needs known feature sizes: the condition is "
                  + tc
                  + " and "
                  + inst.path
                  + " gives "
                  + ty,
              null);
          return y;
        }
        long dc = tc.dim(tc.rank() - 1).value();
        long dy = ty.dim(ty.rank() - 1).value();
        Value w = controlParam(inst, base + ".weight", TensorType.of(tc.dtype(), dc, dy), c.span());
        Value b = controlParam(inst, base + ".bias", TensorType.of(tc.dtype(), dy), c.span());
        proj =
            node(
                Op.ADD,
                Attrs.NONE,
                c.span(),
                node(Op.MATMUL, Attrs.NONE, c.span(), c.source(), w),
                b);
      }
      Value s =
          constant(
              Tensor.ofFloats(ty.dtype(), new long[0], new float[] {(float) c.strength()}),
              c.span());
      out = node(Op.ADD, Attrs.NONE, c.span(), out, node(Op.MUL, Attrs.NONE, c.span(), proj, s));
    }
    return out;
  }

  private Value controlParam(Instance inst, String path, TensorType t, Span span) {
    String key = "<control>" + path;
    Value v = inst.params.get(key);
    if (v == null) {
      v = createParam(path, t, () -> new InitV("zeros", List.of()), true, span, span);
      inst.params.put(key, v);
    }
    return v;
  }

  private void align(AlignItem a, Body body) {
    Dim first = null;
    String firstName = null;
    for (Name n : a.inputs()) {
      Val v = body.env.lookup(n.text());
      if (v == null) {
        fail(DiagnosticCode.UNKNOWN_NAME, n.span(), "unknown input '" + n.text() + "'", null);
      }
      ModelFacts.Port p = facts.input(n.text());
      if (p == null) {
        fail(
            DiagnosticCode.TYPE_MISMATCH,
            n.span(),
            "'" + n.text() + "' is not a model input",
            null);
      }
      Dim d = p.resolved().timeAxis() < 0 ? null : p.resolved().type().dim(p.resolved().timeAxis());
      if (d == null) {
        fail(
            DiagnosticCode.TYPE_MISMATCH,
            n.span(),
            "input '"
                + n.text()
                + "' ("
                + p.resolved().describe()
                + ") has no "
                + a.axis().text()
                + " axis",
            "align inputs of type Audio, Video, Text or Seq");
      }
      if (first == null) {
        first = d;
        firstName = n.text();
      } else if (!first.equals(d)) {
        fail(
            DiagnosticCode.SHAPE_MISMATCH,
            a.span(),
            "inputs '"
                + firstName
                + "' and '"
                + n.text()
                + "' are not aligned on "
                + a.axis().text()
                + ": "
                + first
                + " vs "
                + d,
            "declare both with the same symbolic length, e.g. Audio[T] and Video[T, 3, H, W]");
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // statements

  /**
   * Where evaluation happens: the instance path, the scope, inline names and the parameters of this
   * body.
   */
  static final class Body {
    final String path;
    final Env env;
    final IdentityHashMap<Expr, String> inlineNames;
    final Map<String, Value> params;
    final Map<String, Instance> children;
    final boolean trainable;

    /**
     * Parameter compositions active while this body runs (an adapted instance and everything inside
     * it).
     */
    List<Adaptation> hooks = List.of();

    /** Parameter arithmetic whose parameters this body creates, or null. */
    ArithSpec arith;

    int routeCount;
    int fuseCount;

    /** A body with no instance around it: for compile-time values (consts, dims, defaults). */
    static Body bare(Env env) {
      return new Body("", env, new IdentityHashMap<>(), new LinkedHashMap<>(), true);
    }

    Body(
        String path,
        Env env,
        IdentityHashMap<Expr, String> inlineNames,
        Map<String, Value> params,
        boolean trainable) {
      this(path, env, inlineNames, params, new LinkedHashMap<>(), trainable);
    }

    Body(
        String path,
        Env env,
        IdentityHashMap<Expr, String> inlineNames,
        Map<String, Value> params,
        Map<String, Instance> children,
        boolean trainable) {
      this.path = path;
      this.env = env;
      this.inlineNames = inlineNames;
      this.params = params;
      this.children = children;
      this.trainable = trainable;
    }

    String child(String name) {
      return path.isEmpty() ? name : path + "." + name;
    }
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
    return fail(
        DiagnosticCode.LIMIT,
        span,
        "a size computed here does not fit in 64 bits (" + e.getMessage() + ")",
        "use smaller dims");
  }

  private Val execInner(Stmt s, Body body) {
    if (s instanceof LetStmt l) {
      String name = l.name().text();
      if (body.env.definesLocally(name)) {
        diags.error(
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
              l.type(), t.type(), new Env(body.env), this, l.value().span(), "'" + name + "'");
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
        diags.error(
            DiagnosticCode.TYPE_MISMATCH,
            l.value().span(),
            "expected a tuple of " + l.names().size() + " values, got " + Val.describe(v));
      } else if (items != null && items.size() != l.names().size()) {
        diags.error(
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
        param(p, body);
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

  private void param(ParamStmt p, Body body) {
    String name = p.name().text();
    if (p.cond() != null) {
      Val c = eval(p.cond(), body, null);
      if (!(c instanceof BoolV b)) {
        fail(
            DiagnosticCode.NOT_CONSTANT,
            p.cond().span(),
            "a parameter's condition must be a compile-time boolean, got " + Val.describe(c),
            null);
        return;
      }
      if (!b.value()) {
        body.env.define(name, new NoneV());
        return;
      }
    }
    TensorType t = Modality.concrete(p.type(), this, body.env);
    for (Dim d : t.dims()) {
      if (!d.isKnown()) {
        fail(
            DiagnosticCode.BAD_DIM,
            p.type().span(),
            "the shape of parameter '" + name + "' must be known at compile time, got " + t,
            "derive its sizes from hyperparameters");
      }
      if (d.value() < 0) {
        fail(
            DiagnosticCode.BAD_DIM,
            p.type().span(),
            "parameter '" + name + "' has a negative size: " + t,
            null);
      }
    }
    long[] shape = t.dims().stream().mapToLong(Dim::value).toArray();
    long n;
    try {
      n = Tensor.numel(shape);
    } catch (ArithmeticException e) {
      n = Long.MAX_VALUE;
    }
    if (n > MAX_PARAM_ELEMENTS) {
      fail(
          DiagnosticCode.LIMIT,
          p.type().span(),
          "parameter '"
              + name
              + "' would have "
              + (n == Long.MAX_VALUE ? "more than 2^63" : n)
              + " elements; the limit is "
              + MAX_PARAM_ELEMENTS,
          null);
    }
    Value existing = body.params.get(name);
    if (existing != null) {
      if (!existing.type().equals(t)) {
        fail(
            DiagnosticCode.SHAPE_MISMATCH,
            p.span(),
            "parameter '"
                + body.child(name)
                + "' was created as "
                + existing.type()
                + " by an earlier application of this instance, now needs "
                + t,
            "apply the instance only to inputs of one shape, or use separate instances");
      }
      body.env.define(
          name,
          new TensorV(Adaptation.adapt(existing, body.child(name), body.hooks, this, p.span())));
      return;
    }
    String path = body.child(name);
    java.util.function.Supplier<Val> init =
        () -> p.init() == null ? new InitV("zeros", List.of()) : eval(p.init(), body, null);
    Span initSpan = p.init() == null ? p.span() : p.init().span();
    Value v =
        body.arith != null && body.arith.covers(path)
            ? graph.addParam(
                path,
                body.arith.materialize(path, t, init, this, p.span(), initSpan),
                body.trainable,
                p.span().toLoc())
            : createParam(path, t, init, body.trainable, p.span(), initSpan);
    body.params.put(name, v);
    body.env.define(name, new TensorV(Adaptation.adapt(v, path, body.hooks, this, p.span())));
  }

  /**
   * Creates a parameter at {@code path}: from the weights file when it has the path (shape
   * checked), else from the initializer. Every parameter of the graph is made here.
   */
  Value createParam(
      String path,
      TensorType t,
      java.util.function.Supplier<Val> init,
      boolean trainable,
      Span span,
      Span initSpan) {
    return graph.addParam(path, paramValue(path, t, init, span, initSpan), trainable, span.toLoc());
  }

  /**
   * The value a parameter at {@code path} gets: from the weights file, else from its initializer.
   */
  Tensor paramValue(
      String path, TensorType t, java.util.function.Supplier<Val> init, Span span, Span initSpan) {
    long[] shape = t.dims().stream().mapToLong(Dim::value).toArray();
    long n;
    try {
      n = Tensor.numel(shape);
    } catch (ArithmeticException | IllegalArgumentException e) {
      n = Long.MAX_VALUE;
    }
    if (n > MAX_PARAM_ELEMENTS) {
      fail(
          DiagnosticCode.LIMIT,
          span,
          "parameter '"
              + path
              + "' "
              + t
              + " would have more than "
              + MAX_PARAM_ELEMENTS
              + " elements",
          "use smaller sizes");
    }
    totalParamElements += n;
    long totalLimit = totalParamLimit();
    if (totalParamElements > totalLimit) {
      fail(
          DiagnosticCode.LIMIT,
          span,
          "the model's parameters would exceed "
              + totalLimit
              + " elements in all (at '"
              + path
              + "')",
          totalLimit < MAX_TOTAL_PARAM_ELEMENTS
              ? "with this heap ("
                  + (Runtime.getRuntime().maxMemory() >> 20)
                  + " MiB) cmod holds up to "
                  + totalLimit
                  + " parameters (the values, their ONNX copy and the file: about 16 bytes each); raise it with CMOD_JAVA_OPTS=-Xmx..."
              : "cmod v0 compiles models of up to 2^28 (about 268 M) parameters");
    }
    Tensor value;
    Tensor given = opts.weights().get(path);
    if (given != null) {
      usedWeightKeys.add(path);
      if (!Arrays.equals(given.shape(), shape)) {
        fail(
            DiagnosticCode.WEIGHTS_SHAPE,
            span,
            "weights for '"
                + path
                + "' in "
                + opts.weightsName()
                + " have shape "
                + Arrays.toString(given.shape())
                + ", the parameter is "
                + t,
            "export the weights with the parameter's layout");
      }
      value = convert(given, t.dtype());
    } else {
      value = Inits.make(init.get(), t.dtype(), shape, opts.seed(), path, this, initSpan);
      facts.defaulted.add(path);
    }
    return value;
  }

  private final Set<String> reservedFactors = new java.util.HashSet<>();

  boolean reservedFactor(String path) {
    return reservedFactors.contains(path);
  }

  void reserveFactor(String path) {
    reservedFactors.add(path);
  }

  /**
   * Weights made per example by hypernetworks ([batch, in, out]); matmul checks its left side
   * against them.
   */
  private final Set<dev.cmod.ir.graph.Node> perExampleWeights =
      java.util.Collections.newSetFromMap(new IdentityHashMap<>());

  void markPerExampleWeight(Value w) {
    perExampleWeights.add(w.node());
  }

  boolean isPerExampleWeight(Value w) {
    return perExampleWeights.contains(w.node());
  }

  /** Whether the graph has a parameter at {@code path} or below it ({@code path.*}). */
  boolean hasParamUnder(String path) {
    for (dev.cmod.ir.graph.Node n : graph.nodes()) {
      if (n.op() == Op.PARAM) {
        String p = n.attrs().getString("path");
        if (p.equals(path) || p.startsWith(path + ".")) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether the graph already has a parameter with this path. */
  boolean hasParam(String path) {
    for (dev.cmod.ir.graph.Node n : graph.nodes()) {
      if (n.op() == Op.PARAM && n.attrs().getString("path").equals(path)) {
        return true;
      }
    }
    return false;
  }

  private static Tensor convert(Tensor t, DType to) {
    if (t.dtype() == to) {
      return t;
    }
    if (to.isFloat() && t.isFloat()) {
      return Tensor.ofFloats(to, t.shape(), t.floats());
    }
    if (to.isFloat()) {
      long[] l = t.longs();
      float[] f = new float[l.length];
      for (int i = 0; i < l.length; i++) {
        f[i] = l[i];
      }
      return Tensor.ofFloats(to, t.shape(), f);
    }
    if (t.isFloat()) {
      float[] f = t.floats();
      long[] l = new long[f.length];
      for (int i = 0; i < f.length; i++) {
        l[i] = (long) f[i];
      }
      return Tensor.ofLongs(to, t.shape(), l);
    }
    return Tensor.ofLongs(to, t.shape(), t.longs());
  }

  // ------------------------------------------------------------------------------------------
  // expressions

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
      return Arith.neg(eval(u.operand(), body, null), u.span(), this);
    } else if (e instanceof Binary b) {
      return Arith.binary(
          b.op(),
          eval(b.left(), body, null),
          eval(b.right(), body, null),
          b.opSpan(),
          b.span(),
          this,
          bindName);
    } else if (e instanceof Pipe p) {
      return pipe(p, body);
    } else if (e instanceof If i) {
      Val c = eval(i.cond(), body, null);
      if (!(c instanceof BoolV bv)) {
        return fail(
            DiagnosticCode.NOT_CONSTANT,
            i.cond().span(),
            "the condition of if must be known at compile time, got " + Val.describe(c),
            "use where(cond, a, b) to choose per element");
      }
      return eval(bv.value() ? i.then() : i.otherwise(), body, bindName);
    } else if (e instanceof Repeat r) {
      return repeat(r, body, bindName);
    } else if (e instanceof Freeze f) {
      return freeze(f, body, bindName);
    } else if (e instanceof Route r) {
      return route(r, body);
    } else if (e instanceof With w) {
      return with(w, body);
    }
    throw new IllegalStateException("unhandled expression " + e);
  }

  private Val tupleIndex(TupleIndex t, Body body) {
    Val v = eval(t.target(), body, null);
    List<Val> items =
        v instanceof TupleV tv ? tv.items() : v instanceof ListV lv ? lv.items() : null;
    if (items == null) {
      return fail(
          DiagnosticCode.TYPE_MISMATCH,
          t.span(),
          "." + t.index() + " needs a tuple or list, got " + Val.describe(v),
          null);
    }
    if (t.index() >= items.size()) {
      return fail(
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
      fail(
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
        return new InstanceV(instantiate(m.def(), List.of(), n.span(), name, body));
      }
      return v;
    }
    if (Builtins.isBuiltin(n.name())) {
      return new FuncV(n.name());
    }
    if (diags.saturated()) {
      // past the errors that are shown: no suggestion work for the ones only counted
      return fail(DiagnosticCode.UNKNOWN_NAME, n.span(), "unknown name '" + n.name() + "'", null);
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
    return fail(DiagnosticCode.UNKNOWN_NAME, n.span(), "unknown name '" + n.name() + "'", help);
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
        return fail(
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
      return fail(
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
        return fail(
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
      return new TensorV(node(Op.TRANSPOSE, Attrs.of("perm", perm), m.span(), tv.value()));
    }
    if (t instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    return fail(
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
    Val callee =
        c.callee() instanceof NameRef n
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
          fail(
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
    if (callee instanceof ModuleV m) {
      String name = bindName != null ? bindName : instanceName(c, body, m.def());
      return new InstanceV(instantiate(m.def(), args, name, body));
    } else if (callee instanceof InitV init) {
      List<Double> nums = new ArrayList<>();
      for (int k = 0; k < pos.size(); k++) {
        nums.add(number(pos.get(k), posSpans.get(k), "initializer argument"));
      }
      for (Map.Entry<String, Val> e : named.entrySet()) {
        nums.add(number(e.getValue(), namedSpans.get(e.getKey()), "initializer argument"));
      }
      return new InitV(init.kind(), nums);
    }
    if (piped != null && !(callee instanceof FuncV)) {
      return fail(
          DiagnosticCode.NOT_CALLABLE, c.span(), "cannot pipe into the result of a call", null);
    }
    Val result = applyArgs(callee, args, body);
    if (result == null) {
      return fail(
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
      return fail(
          DiagnosticCode.ARITY,
          r.span(),
          "module " + m.def().name() + " needs its hyperparameters before it can be applied",
          "write " + m.def().name() + "(...)");
    }
    Args args = new Args(List.of(x), List.of(p.left().span()), Map.of(), Map.of(), p.span());
    Val applied = applyArgs(f, args, body);
    if (applied != null) {
      return applied;
    }
    return fail(
        DiagnosticCode.NOT_CALLABLE,
        r.span(),
        "cannot pipe into " + Val.describe(f),
        "the right side of |> must be a function, a module instance or a call of a builtin");
  }

  private Val repeat(Repeat r, Body body, String bindName) {
    Val n = eval(r.count(), body, null);
    long count = intValue(n, r.count().span(), "repeat count");
    if (count < 1 || count > 4096) {
      return fail(
          DiagnosticCode.BAD_DIM,
          r.count().span(),
          "repeat count must be between 1 and 4096, got " + count,
          null);
    }
    if (repeatProduct * count > MAX_INSTANCES) {
      // nested repeats multiply: refuse at once, before the copies are made
      return fail(
          DiagnosticCode.LIMIT,
          r.count().span(),
          "repeat("
              + count
              + ") inside repeats of "
              + repeatProduct
              + " copies would make "
              + repeatProduct * count
              + " copies, more than the "
              + MAX_INSTANCES
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
        v = call(c, body, base + "." + i, null);
      } else if (inner instanceof NameRef nr && body.env.lookup(nr.name()) instanceof ModuleV m) {
        v = new InstanceV(instantiate(m.def(), List.of(), nr.span(), base + "." + i, body));
      } else {
        v = eval(inner, body, null);
      }
      if (!(v instanceof InstanceV iv)) {
        return fail(
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

  // ------------------------------------------------------------------------------------------
  // routing (section 6)

  /** Applies anything applicable (instance, stack, adapted instance, builtin) to one tensor. */
  Val applyTo(Val f, Val x, Span span, Body body) {
    Val applied = applyArgs(f, new Args(List.of(x), List.of(span), Map.of(), Map.of(), span), body);
    if (applied != null) {
      return applied;
    }
    return fail(
        DiagnosticCode.NOT_CALLABLE,
        span,
        Val.describe(f) + " cannot be applied to a tensor",
        null);
  }

  /** Applies anything applicable to arguments; null when {@code f} cannot be applied. */
  private Val applyArgs(Val f, Args args, Body body) {
    if (f instanceof InstanceV i) {
      return apply(i.inst(), args, body);
    } else if (f instanceof StackV s) {
      return applyStack(s, args, body);
    } else if (f instanceof AdaptedV a) {
      return applyAdapted(a, args, body);
    } else if (f instanceof ImportedV im) {
      return applyImported(im, args, body);
    } else if (f instanceof ArithV av) {
      return applyArith(av, args, body);
    } else if (f instanceof FuncV fn) {
      return builtins.call(fn.name(), args, body);
    } else if (f instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    return null;
  }

  /**
   * {@code fuse(x, [a, b, ...])}: attention over module outputs (AdapterFusion). A gate instance
   * {@code Fuse_<n>} holds query, key and value [d, d]; each output o_i is scored by
   * (x·Wq)·(o_i·Wk)/sqrt(d), the scores are softmaxed over the modules, and the result is Σ
   * softmax_i · (o_i·Wv).
   */
  Val fuse(Value x, List<Val> modules, Span at, Span sp, Body body) {
    if (modules.isEmpty()) {
      return fail(DiagnosticCode.ARITY, at, "fuse needs at least one module", null);
    }
    int r = x.type().rank();
    if (r < 1 || !x.type().dim(r - 1).isKnown() || !x.type().dtype().isFloat()) {
      return fail(
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
            createParam(
                body.child(key),
                TensorType.of(x.type().dtype(), d, d),
                () -> new InitV("xavier", List.of()),
                body.trainable,
                sp,
                sp);
        body.params.put(key, w[i]);
      }
    }
    Value q = node(Op.MATMUL, Attrs.NONE, sp, x, w[0]);
    Value scale =
        constant(
            Tensor.ofFloats(
                x.type().dtype(), new long[0], new float[] {(float) (1 / Math.sqrt(d))}),
            sp);
    List<Value> scores = new ArrayList<>();
    List<Value> values = new ArrayList<>();
    TensorType first = null;
    for (int i = 0; i < modules.size(); i++) {
      Value o =
          tensorOf(
              applyTo(modules.get(i), new TensorV(x), at, body), at, "module " + i + " of fuse");
      if (first == null) {
        first = o.type();
      } else if (!first.equals(o.type())) {
        return fail(
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
        return fail(
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
      Value k = node(Op.MATMUL, Attrs.NONE, sp, o, w[1]);
      scores.add(
          node(
              Op.MUL,
              Attrs.NONE,
              sp,
              node(
                  Op.REDUCE_SUM,
                  Attrs.of("axis", r - 1, "keep", true),
                  sp,
                  node(Op.MUL, Attrs.NONE, sp, q, k)),
              scale));
      values.add(node(Op.MATMUL, Attrs.NONE, sp, o, w[2]));
    }
    Value s =
        scores.size() == 1
            ? scores.get(0)
            : node(Op.CONCAT, Attrs.of("axis", r - 1), sp, scores.toArray(new Value[0]));
    Value p = node(Op.SOFTMAX, Attrs.of("axis", r - 1), sp, s);
    Value acc = null;
    for (int i = 0; i < values.size(); i++) {
      Value pi =
          node(Op.SLICE, Attrs.of("axis", r - 1, "start", Dim.of(i), "end", Dim.of(i + 1)), sp, p);
      Value term = node(Op.MUL, Attrs.NONE, sp, values.get(i), pi);
      acc = acc == null ? term : node(Op.ADD, Attrs.NONE, sp, acc, term);
    }
    return new TensorV(acc);
  }

  private Val route(Route r, Body body) {
    Value x = tensorOf(eval(r.input(), body, null), r.input().span(), "the routed value");
    Val ev = eval(r.experts(), body, null);
    if (ev instanceof StackV st) {
      // a repeat stack bound as experts: its copies are the experts (experts.0, experts.1, ...)
      List<Val> items = new ArrayList<>();
      st.layers().forEach(l -> items.add(new InstanceV(l)));
      ev = new ListV(items);
    }
    if (!(ev instanceof ListV list) || list.items().isEmpty()) {
      return fail(
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
        return fail(
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
            createParam(
                body.child(key),
                TensorType.of(x.type().dtype(), d, n),
                () -> new InitV("xavier", List.of()),
                body.trainable,
                sp,
                sp);
        body.params.put(key, w);
      }
      int last = x.type().rank() - 1;
      Value p = node(Op.SOFTMAX, Attrs.of("axis", last), sp, node(Op.MATMUL, Attrs.NONE, sp, x, w));
      if (mode.equals("soft")) {
        if (by instanceof Call) {
          return fail(DiagnosticCode.ARITY, by.span(), "soft takes no arguments", null);
        }
        gates = p;
      } else {
        if (!(by instanceof Call c) || c.args().size() != 1) {
          return fail(DiagnosticCode.ARITY, by.span(), "topk needs k: by topk(2)", null);
        }
        long k = intValue(eval(((Call) by).args().get(0).value(), body, null), by.span(), "k");
        if (k < 1 || k > n) {
          return fail(
              DiagnosticCode.BAD_DIM,
              by.span(),
              "topk(" + k + ") needs 1 <= k <= " + n + " (the number of experts)",
              null);
        }
        dev.cmod.ir.graph.Node top = nodeMulti(Op.TOPK, Attrs.of("k", k, "axis", last), sp, p);
        Value vals = top.out(0);
        Value norm =
            node(
                Op.DIV,
                Attrs.NONE,
                sp,
                vals,
                node(Op.REDUCE_SUM, Attrs.of("axis", last, "keep", true), sp, vals));
        Value hot = node(Op.ONE_HOT, Attrs.of("n", (long) n), sp, top.out(1)); // [..., k, n]
        Value weighted =
            node(
                Op.MUL,
                Attrs.NONE,
                sp,
                hot,
                node(Op.UNSQUEEZE, Attrs.of("axis", last + 1), sp, norm));
        gates =
            node(Op.REDUCE_SUM, Attrs.of("axis", last, "keep", false), sp, weighted); // [..., n]
      }
    } else if (mode.equals("index")) {
      if (!(by instanceof Call c) || c.args().size() != 1) {
        return fail(
            DiagnosticCode.ARITY,
            by.span(),
            "index needs the selecting input: by index(lang)",
            null);
      }
      Value idx =
          tensorOf(eval(((Call) by).args().get(0).value(), body, null), by.span(), "the index");
      if (!idx.type().dtype().isInteger() || idx.type().rank() != 1) {
        return fail(
            DiagnosticCode.TYPE_MISMATCH,
            by.span(),
            "index(i) needs one integer per example (i64[batch], e.g. a Class input), got "
                + idx.type(),
            null);
      }
      gates = node(Op.ONE_HOT, Attrs.of("n", (long) n), sp, idx); // [batch, n]
      for (int i = 1; i < x.type().rank() - 1; i++) {
        gates = node(Op.UNSQUEEZE, Attrs.of("axis", 1), sp, gates);
      }
      if (x.type().dtype() != gates.type().dtype()) {
        gates = node(Op.CAST, Attrs.of("to", x.type().dtype()), sp, gates);
      }
    } else {
      return fail(
          DiagnosticCode.UNKNOWN_NAME,
          by.span(),
          "unknown routing '" + mode + "'",
          "use topk(k), soft or index(i)");
    }
    Value acc = null;
    TensorType first = null;
    int gl = gates.type().rank() - 1;
    for (int e = 0; e < n; e++) {
      Value y =
          tensorOf(
              applyTo(list.items().get(e), new TensorV(x), r.experts().span(), body),
              r.experts().span(),
              "expert " + e);
      if (first == null) {
        first = y.type();
      } else if (!first.equals(y.type())) {
        return fail(
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
      Value g =
          node(Op.SLICE, Attrs.of("axis", gl, "start", Dim.of(e), "end", Dim.of(e + 1)), sp, gates);
      Value term = node(Op.MUL, Attrs.NONE, sp, y, g);
      acc = acc == null ? term : node(Op.ADD, Attrs.NONE, sp, acc, term);
    }
    return new TensorV(acc);
  }

  // ------------------------------------------------------------------------------------------
  // parameter composition (section 5)

  private Val with(With w, Body body) {
    Val base = eval(w.base(), body, null);
    String comp = w.composition().text();
    Value hyperEmb = null;
    if (w.from() != null) {
      if (!(w.from() instanceof Call hc)
          || !(hc.callee() instanceof NameRef hn)
          || !hn.name().equals("hyper")
          || hc.args().size() != 1
          || !comp.equals("lora")) {
        return fail(
            DiagnosticCode.UNSUPPORTED,
            w.from().span(),
            "only lora(...) ... from hyper(embedding) is supported",
            "write base with lora(rank = 4) on \"q\" from hyper(task_emb)");
      }
      hyperEmb =
          tensorOf(
              eval(hc.args().get(0).value(), body, null), hc.span(), "the hypernetwork's input");
      TensorType et = hyperEmb.type();
      if (et.rank() != 2 || !et.dim(1).isKnown() || !et.dtype().isFloat()) {
        return fail(
            DiagnosticCode.SHAPE_MISMATCH,
            hc.span(),
            "hyper(e) needs one float embedding per example, [batch, e] with e known; got " + et,
            "declare it as input e: Vector[E]");
      }
    }
    Val target;
    String basePath;
    List<Adaptation> rules = new ArrayList<>();
    if (base instanceof InstanceV i) {
      target = base;
      basePath = i.inst().path;
    } else if (base instanceof StackV st) {
      target = base;
      String first = st.layers().get(0).path;
      basePath = first.substring(0, Math.max(0, first.lastIndexOf('.')));
    } else if (base instanceof ImportedV im) {
      target = base;
      basePath = body.child(im.name());
    } else if (base instanceof AdaptedV a) {
      target = a.target();
      basePath = a.basePath();
      rules.addAll(a.rules());
    } else if (base instanceof ErrorV) {
      throw ElabError.INSTANCE;
    } else {
      return fail(
          DiagnosticCode.TYPE_MISMATCH,
          w.base().span(),
          "'with' composes a module instance, not " + Val.describe(base),
          "bind the instance first: let base = Mlp(64)");
    }
    if (comp.equals("stack")
        || comp.equals("parallel")
        || comp.equals("average")
        || comp.equals("fuse")
        || comp.equals("split")) {
      return adapterBlock(w, comp, target, basePath, rules, body);
    }
    Adaptation.Kind kind =
        switch (comp) {
          case "lora" -> Adaptation.Kind.LORA;
          case "ia3" -> Adaptation.Kind.IA3;
          case "adapter" -> Adaptation.Kind.ADAPTER;
          case "prefix" -> Adaptation.Kind.PREFIX;
          case "prompt" -> Adaptation.Kind.PROMPT;
          default -> null;
        };
    if (kind == null) {
      return fail(
          DiagnosticCode.UNSUPPORTED,
          w.composition().span(),
          "'with " + comp + "' is not supported by this version of cmod yet",
          "implemented: lora(rank, alpha), ia3, adapter(bottleneck, at), prefix(length),"
              + " prompt(length); see docs/language.md");
    }
    List<String> order =
        switch (kind) {
          case LORA -> List.of("rank", "alpha");
          case ADAPTER -> List.of("bottleneck", "at", "name");
          case PREFIX, PROMPT -> List.of("length");
          default -> List.of();
        };
    Map<String, Val> named = new LinkedHashMap<>();
    int pos = 0;
    for (Arg a : w.args()) {
      String k = a.name() != null ? a.name().text() : pos < order.size() ? order.get(pos++) : null;
      if (k == null || !order.contains(k)) {
        fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            a.name() != null ? a.name().span() : a.value().span(),
            comp
                + (k == null
                    ? " takes " + order.size() + " arguments"
                    : " has no parameter '" + k + "'"),
            "expected " + comp + "(" + String.join(", ", order) + ")");
      }
      if (k.equals("at") && a.value() instanceof NameRef nr) {
        named.put(k, new StrV(nr.name()));
      } else {
        named.put(k, eval(a.value(), body, null));
      }
    }
    long rank = 0;
    double alpha = 0;
    String at = "after";
    String adapterName = "adapter";
    if (kind == Adaptation.Kind.LORA) {
      if (!named.containsKey("rank")) {
        fail(
            DiagnosticCode.ARITY,
            w.composition().span(),
            "lora needs a rank: lora(rank = 8, alpha = 16)",
            null);
      }
      rank = intValue(named.get("rank"), w.composition().span(), "lora rank");
      alpha =
          named.containsKey("alpha")
              ? number(named.get("alpha"), w.composition().span(), "lora alpha")
              : rank;
    } else if (kind == Adaptation.Kind.ADAPTER) {
      if (!named.containsKey("bottleneck")) {
        fail(
            DiagnosticCode.ARITY,
            w.composition().span(),
            "adapter needs a bottleneck size: adapter(bottleneck = 64, at = after)",
            null);
      }
      rank = intValue(named.get("bottleneck"), w.composition().span(), "adapter bottleneck");
      if (named.containsKey("at")) {
        if (!(named.get("at") instanceof StrV sv)
            || !(sv.value().equals("after") || sv.value().equals("parallel"))) {
          Span atSpan = w.composition().span();
          for (Arg a : w.args()) {
            if (a.name() != null && a.name().text().equals("at")) {
              atSpan = a.value().span();
            }
          }
          fail(
              DiagnosticCode.UNKNOWN_ARGUMENT,
              atSpan,
              "adapter placement must be at = after or at = parallel, got "
                  + (named.get("at") instanceof StrV bad
                      ? "'" + bad.value() + "'"
                      : Val.describe(named.get("at"))),
              null);
        }
        at = ((StrV) named.get("at")).value();
      }
      if (named.containsKey("name")) {
        if (!(named.get("name") instanceof StrV nv)
            || !nv.value().matches("[A-Za-z_][A-Za-z0-9_]*")) {
          fail(
              DiagnosticCode.TYPE_MISMATCH,
              w.composition().span(),
              "adapter name must be a plain name in quotes, e.g. name = \"lang_de\"",
              null);
        }
        adapterName = ((StrV) named.get("name")).value();
      }
    } else if (kind == Adaptation.Kind.PREFIX || kind == Adaptation.Kind.PROMPT) {
      if (!named.containsKey("length")) {
        fail(
            DiagnosticCode.ARITY,
            w.composition().span(),
            comp + " needs a length: " + comp + "(length = 16)",
            null);
      }
      rank = intValue(named.get("length"), w.composition().span(), comp + " length");
    }
    if (kind != Adaptation.Kind.IA3 && rank < 1) {
      fail(
          DiagnosticCode.BAD_DIM,
          w.composition().span(),
          comp + " needs a size of at least 1",
          null);
    }
    if (kind == Adaptation.Kind.PROMPT) {
      if (!w.targets().isEmpty()) {
        fail(
            DiagnosticCode.ARITY,
            w.targets().get(0).span(),
            "prompt prepends tokens to the adapted instance's input; it takes no targets",
            null);
      }
      Adaptation pr =
          new Adaptation(
              kind, rank, 0, basePath, TypeMatch.text(w.base()), List.of(), List.of(), true);
      rules.add(pr);
      return new AdaptedV(target, basePath, List.copyOf(rules), new boolean[1]);
    }
    if (w.targets().isEmpty()) {
      fail(
          DiagnosticCode.ARITY,
          w.span(),
          comp + " needs targets: with " + comp + "(...) on \"q\", \"v\"",
          null);
    }
    List<String> pats = new ArrayList<>();
    List<Span> spans = new ArrayList<>();
    for (Expr t : w.targets()) {
      Val v = eval(t, body, null);
      if (!(v instanceof StrV sv)) {
        return fail(
            DiagnosticCode.TYPE_MISMATCH,
            t.span(),
            "a target is a quoted path pattern such as \"*.attn.q\"",
            null);
      }
      pats.add(sv.value());
      spans.add(t.span());
    }
    Adaptation rule =
        new Adaptation(kind, rank, alpha, basePath, TypeMatch.text(w.base()), pats, spans, true);
    rule.at = at;
    rule.hyperEmb = hyperEmb;
    rule.adapterName = adapterName;
    rules.add(rule);
    return new AdaptedV(target, basePath, List.copyOf(rules), new boolean[1]);
  }

  /**
   * AdapterHub blocks over compositions of the same base: {@code stack(a, b)} applies a's and then
   * b's compositions; {@code parallel(a, b)} / {@code average(a, b)} add the sum / mean of the
   * member adapters' contributions at each targeted instance.
   */
  private Val adapterBlock(
      With w, String comp, Val target, String basePath, List<Adaptation> rules, Body body) {
    if (!w.targets().isEmpty() || w.from() != null) {
      return fail(
          DiagnosticCode.ARITY,
          w.span(),
          comp + "(...) takes compositions of the base, not targets",
          null);
    }
    if (w.args().size() < 1) {
      return fail(
          DiagnosticCode.ARITY,
          w.composition().span(),
          comp + " needs compositions: " + comp + "(lang_de, task_ner)",
          null);
    }
    List<Adaptation> members = new ArrayList<>();
    long splitAt = -1;
    for (Arg a : w.args()) {
      if (a.name() != null) {
        if (!comp.equals("split") || !a.name().text().equals("at")) {
          return fail(
              DiagnosticCode.UNKNOWN_ARGUMENT,
              a.name().span(),
              comp + " has no parameter '" + a.name().text() + "'",
              comp.equals("split") ? "split(a, b, at = n)" : null);
        }
        splitAt = intValue(eval(a.value(), body, null), a.value().span(), "split position");
        continue;
      }
      Val v = eval(a.value(), body, null);
      if (!(v instanceof AdaptedV av) || !av.basePath().equals(basePath)) {
        return fail(
            DiagnosticCode.TYPE_MISMATCH,
            a.value().span(),
            comp
                + " takes compositions of the same base ('"
                + basePath
                + "'), such as base with adapter(...) on \"*.ffn\"; got "
                + Val.describe(v),
            null);
      }
      for (Adaptation r : av.rules()) {
        if (!members.contains(r) && !rules.contains(r)) {
          members.add(r);
        }
      }
    }
    List<Adaptation> out = new ArrayList<>(rules);
    if (comp.equals("stack")) {
      out.addAll(members);
    } else {
      for (int i = 0; i < members.size(); i++) {
        if (members.get(i).kind != Adaptation.Kind.ADAPTER) {
          return fail(
              DiagnosticCode.TYPE_MISMATCH,
              w.args().get(Math.min(i, w.args().size() - 1)).value().span(),
              comp + " combines adapters; use stack for other compositions",
              null);
        }
      }
      Adaptation group =
          new Adaptation(
              Adaptation.Kind.GROUP,
              0,
              0,
              basePath,
              TypeMatch.text(w.base()),
              List.of(),
              List.of(),
              true);
      group.members = members;
      group.at = comp;
      if (comp.equals("split")) {
        if (members.size() != 2 || splitAt < 0) {
          return fail(
              DiagnosticCode.ARITY,
              w.composition().span(),
              "split takes two adapters and a position: split(a, b, at = n)",
              null);
        }
        group.rank = splitAt;
      }
      out.add(group);
    }
    return new AdaptedV(target, basePath, List.copyOf(out), new boolean[1]);
  }

  /**
   * Applies a model from {@code import onnx}: its inputs are fed in order (or by input name), its
   * weights become frozen parameters under the import's name, shared by every application.
   */
  private Val applyImported(ImportedV im, Args args, Body body) {
    dev.cmod.ir.graph.ImportedModule m = im.module();
    List<String> names = m.inputNames();
    Value[] in = new Value[names.size()];
    if (args.pos().size() > names.size()) {
      return fail(
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
          tensorOf(
              args.pos().get(i),
              args.posSpans().get(i),
              "input '" + names.get(i) + "' of " + im.name());
    }
    for (Map.Entry<String, Val> e : args.named().entrySet()) {
      int i = names.indexOf(e.getKey());
      if (i < 0) {
        String near = Suggest.closest(e.getKey(), names);
        return fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            args.namedSpans().get(e.getKey()),
            im.name() + " has no input '" + e.getKey() + "'",
            near != null ? "did you mean '" + near + "'?" : "its inputs are " + names);
      }
      in[i] =
          tensorOf(
              e.getValue(),
              args.namedSpans().get(e.getKey()),
              "input '" + e.getKey() + "' of " + im.name());
    }
    for (int i = 0; i < in.length; i++) {
      if (in[i] == null) {
        return fail(
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
      outs = m.apply(graph, List.of(in), body.child(im.name()), args.span().toLoc());
    } catch (ShapeException e) {
      return fail(
          DiagnosticCode.SHAPE_MISMATCH,
          args.span(),
          im.name() + ": " + e.getMessage(),
          "its inputs are " + names + " of types " + m.inputTypes());
    } catch (dev.cmod.ir.graph.ImportedModule.ImportException e) {
      return fail(DiagnosticCode.ONNX_FILE, args.span(), im.name() + ": " + e.getMessage(), null);
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
    before.addAll(graph.nodes());
    Val r = applyImported(im, args, caller);
    String prefix = caller.child(im.name()) + ".";
    for (dev.cmod.ir.graph.Node n : graph.nodes()) {
      if (n.op() != Op.PARAM || !n.attrs().getString("path").startsWith(prefix)) {
        continue;
      }
      // only this application's nodes read the composed weight (the parameter may be shared)
      List<dev.cmod.ir.graph.Node> readers = new ArrayList<>(graph.users(n));
      readers.removeIf(before::contains);
      if (readers.isEmpty()) {
        continue;
      }
      Value w = Adaptation.adapt(n.out(), n.attrs().getString("path"), hooks, this, args.span());
      if (w != n.out()) {
        graph.replaceUsesBy(n.out(), w, readers);
      }
    }
    return r;
  }

  private Val applyArith(ArithV av, Args args, Body caller) {
    boolean first = av.made()[0] == null;
    if (first) {
      String name = av.name() != null ? av.name() : av.base().def.name() + "_arith";
      String path = caller.child(name);
      Instance inst = new Instance(av.base().def, path, av.base().hyperEnv);
      inst.arith = new ArithSpec(av.base().path, path, av.terms());
      av.made()[0] = inst;
    }
    Val r = apply(av.made()[0], args, caller);
    if (first) {
      int before = diags.errorCount();
      av.made()[0].arith.checkUsed(this);
      if (diags.errorCount() > before) {
        throw ElabError.INSTANCE;
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
          return fail(
              DiagnosticCode.TYPE_MISMATCH,
              args.span(),
              "prompt tuning prepends to a tensor sequence argument",
              null);
        }
        List<Val> pos = new ArrayList<>(args.pos());
        pos.set(0, new TensorV(rule.prompt(tv.value(), this, args.span())));
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
      int before = diags.errorCount();
      for (Adaptation rule : a.rules()) {
        rule.checkMatched(this);
      }
      if (diags.errorCount() > before) {
        throw ElabError.INSTANCE;
      }
    }
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // modules

  /** Positional and named arguments with their spans. */
  record Args(
      List<Val> pos,
      List<Span> posSpans,
      Map<String, Val> named,
      Map<String, Span> namedSpans,
      Span span) {}

  private Instance instantiate(ModuleDef def, List<Val> noArgs, Span span, String name, Body body) {
    return instantiate(def, new Args(noArgs, List.of(), Map.of(), Map.of(), span), name, body);
  }

  private Instance instantiate(ModuleDef def, Args args, String name, Body body) {
    ModuleDecl d = def.decl();
    String path = body.child(name);
    Instance existing = body.children.get(path);
    if (existing != null && existing.def.decl() == d) {
      return existing; // the enclosing body runs again (its instance is applied once more): same
      // parameters
    }
    if (Thread.currentThread().isInterrupted()) {
      fail(DiagnosticCode.LIMIT, args.span(), "the compilation was cancelled", null);
    }
    if (++instances > MAX_INSTANCES) {
      fail(
          DiagnosticCode.LIMIT,
          args.span(),
          "the model would create more than "
              + MAX_INSTANCES
              + " module instances (nested repeats multiply: this one is "
              + Excerpt.of(path, 120)
              + ")",
          "use fewer or smaller repeats");
    }
    Env env = new Env(def.scope().env);
    bindParams(d.hyper(), args, env, "hyperparameter", def.name(), true);
    Instance inst = new Instance(def, path, env);
    body.children.put(path, inst);
    return inst;
  }

  /**
   * Binds declared parameters (hyperparameters or arguments) from call arguments into {@code env}.
   */
  private void bindParams(
      List<ParamDecl> decls, Args args, Env env, String what, String owner, boolean hyper) {
    if (args.pos().size() > decls.size()) {
      fail(
          DiagnosticCode.ARITY,
          args.posSpans().get(decls.size()),
          owner
              + " takes "
              + decls.size()
              + " "
              + what
              + (decls.size() == 1 ? "" : "s")
              + ", got "
              + args.pos().size(),
          hyper && decls.isEmpty()
              ? "make an instance first, then apply it: " + owner + "()(x)"
              : signature(decls, owner));
    }
    for (String k : args.named().keySet()) {
      if (decls.stream().noneMatch(p -> p.name().text().equals(k))) {
        String near = Suggest.closest(k, decls.stream().map(p -> p.name().text()).toList());
        fail(
            DiagnosticCode.UNKNOWN_ARGUMENT,
            args.namedSpans().get(k),
            owner + " has no " + what + " '" + k + "'",
            near != null ? "did you mean '" + near + "'?" : signature(decls, owner));
      }
    }
    for (int i = 0; i < decls.size(); i++) {
      ParamDecl p = decls.get(i);
      String pn = p.name().text();
      Val v;
      Span at;
      if (i < args.pos().size()) {
        v = args.pos().get(i);
        at = args.posSpans().get(i);
        if (args.named().containsKey(pn)) {
          fail(
              DiagnosticCode.DUPLICATE,
              args.namedSpans().get(pn),
              pn + " is given both by position and by name",
              null);
        }
      } else if (args.named().containsKey(pn)) {
        v = args.named().get(pn);
        at = args.namedSpans().get(pn);
      } else if (p.dflt() != null) {
        Body b = Body.bare(env);
        v = eval(p.dflt(), b, null);
        at = p.dflt().span();
      } else {
        fail(
            DiagnosticCode.ARITY,
            args.span(),
            owner + " is missing its " + what + " '" + pn + "'",
            signature(decls, owner));
        return;
      }
      if (v instanceof ErrorV) {
        throw ElabError.INSTANCE;
      }
      env.define(pn, checkParamValue(p, v, env, at, owner));
    }
  }

  private Val checkParamValue(ParamDecl p, Val v, Env env, Span at, String owner) {
    String what = "'" + p.name().text() + "' of " + owner;
    if (p.type() instanceof NamedTypeExpr nt) {
      String t = nt.name().text();
      switch (t) {
        case "int" -> {
          if (v instanceof IntV) {
            return v;
          }
          if (v instanceof FloatV f && f.value() == Math.rint(f.value())) {
            return IntV.of((long) f.value());
          }
        }
        case "float" -> {
          if (v instanceof FloatV) {
            return v;
          }
          if (v instanceof IntV i && i.dim().isKnown()) {
            return new FloatV(i.dim().value());
          }
        }
        case "bool" -> {
          if (v instanceof BoolV) {
            return v;
          }
        }
        case "string", "str" -> {
          if (v instanceof StrV) {
            return v;
          }
        }
        case "dtype" -> {
          if (v instanceof DTypeV) {
            return v;
          }
        }
        case "module", "instance", "any" -> {
          return v;
        }
        case "list" -> {
          if (v instanceof ListV) {
            return v;
          }
        }
        default -> {
          return fail(
              DiagnosticCode.BAD_TYPE,
              nt.span(),
              "unknown type '" + t + "'",
              "scalar types are int, float, bool and string; tensors are written like f32[n, d]");
        }
      }
      if (v instanceof NoneV && p.dflt() instanceof NoneLit) {
        return v;
      }
      return fail(
          DiagnosticCode.TYPE_MISMATCH,
          at,
          what + " must be " + t + ", got " + Val.describe(v),
          null);
    }
    if (v instanceof NoneV && p.dflt() instanceof NoneLit) {
      return v;
    }
    if (!(v instanceof TensorV tv)) {
      return fail(
          DiagnosticCode.TYPE_MISMATCH,
          at,
          what + " must be a tensor, got " + Val.describe(v),
          null);
    }
    TypeMatch.match(p.type(), tv.type(), env, this, at, what);
    return v;
  }

  private static String signature(List<ParamDecl> decls, String owner) {
    StringBuilder sb = new StringBuilder("expected ").append(owner).append('(');
    for (int i = 0; i < decls.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      ParamDecl p = decls.get(i);
      sb.append(p.name().text());
      if (p.dflt() != null) {
        sb.append(" = ...");
      }
    }
    return sb.append(')').toString();
  }

  /** Applies an instance to arguments: binds them, runs the body inline, checks the result type. */
  Val apply(Instance inst, Args args, Body caller) {
    return apply(inst, args, caller, caller.hooks);
  }

  /**
   * Where the module applications in progress were written, outermost first (for "in ... applied
   * here" notes).
   */
  private final java.util.ArrayDeque<Span> applySites = new java.util.ArrayDeque<>();

  private dev.cmod.compiler.diag.SourceFile rootFile;

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
    if (++applyDepth > MAX_APPLY_DEPTH) {
      applyDepth = 0;
      fail(
          DiagnosticCode.RECURSION,
          args.span(),
          "module applications nest deeper than "
              + MAX_APPLY_DEPTH
              + " (is "
              + inst.def.name()
              + " recursive?)",
          "use repeat(n) M(...) to stack copies");
    }
    try {
      Env env = new Env(inst.hyperEnv);
      bindParams(d.args(), args, env, "argument", inst.def.name(), false);
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
          result = exec(s, body);
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
        return fail(
            DiagnosticCode.NO_RESULT,
            d.name().span(),
            "module " + inst.def.name() + " ends without a result expression",
            "end the body with an expression or a return");
      }
      Val checked = checkResult(inst, d, result, env, args.span());
      inst.applied = true;
      if (!inst.controls.isEmpty() && checked instanceof TensorV ct) {
        checked = new TensorV(control(inst, ct.value(), args.span()));
      }
      // the module's first argument, however it was passed (by position or by name)
      Val first = d.args().isEmpty() ? null : env.lookup(d.args().get(0).name().text());
      if (!hooks.isEmpty() && checked instanceof TensorV ty && first instanceof TensorV tx) {
        return new TensorV(
            Adaptation.wrapResult(inst.path, tx.value(), ty.value(), hooks, this, args.span()));
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
            this,
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
      return fail(
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
            this,
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
      return fail(
          DiagnosticCode.ARITY, args.span(), "a repeat stack takes exactly one input", null);
    }
    Val x = args.pos().get(0);
    long outer = repeatProduct;
    // repeatProduct <= MAX_INSTANCES and a stack has at most 4096 layers: no overflow
    repeatProduct = Math.min(outer * Math.max(1, s.layers().size()), (long) MAX_INSTANCES + 1);
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

  // ------------------------------------------------------------------------------------------
  // helpers shared with Builtins, Arith, TypeMatch, Modality, Inits

  /** Reports an error and unwinds the current expression. */
  Val fail(DiagnosticCode code, Span span, String message, String help) {
    diags.error(code, span, message, help);
    if (span != null && rootFile != null && span.file() != rootFile) {
      // the error is inside a library module: point at the user's code that led there
      Span site = null;
      for (Span sp : applySites) {
        if (sp.file() == rootFile) {
          site = sp;
        }
      }
      if (site != null) {
        diags.note(DiagnosticCode.CONTEXT, site, "in the module applied here");
      }
    }
    throw ElabError.INSTANCE;
  }

  /** Adds an IR node; a violated shape rule becomes a located diagnostic. */
  Value node(Op op, Attrs attrs, Span span, Value... operands) {
    return nodeMulti(op, attrs, span, operands).out();
  }

  Node nodeMulti(Op op, Attrs attrs, Span span, Value... operands) {
    if (Thread.currentThread().isInterrupted()) {
      fail(DiagnosticCode.LIMIT, span, "the compilation was cancelled", null);
    }
    if (graph.nodeCount() > MAX_NODES) {
      fail(
          DiagnosticCode.LIMIT,
          span,
          "the model's graph would exceed " + MAX_NODES + " operations",
          "use fewer or smaller repeats");
    }
    try {
      return graph.add(op, attrs, List.of(operands), span.toLoc());
    } catch (ShapeException e) {
      String m = e.getMessage();
      DiagnosticCode code =
          m.contains("element types")
                  || m.contains("floating-point")
                  || m.contains("must be bool")
                  || m.contains("must be integers")
              ? DiagnosticCode.TYPE_MISMATCH
              : DiagnosticCode.SHAPE_MISMATCH;
      fail(code, span, m, null);
      return null;
    }
  }

  Value constant(Tensor t, Span span) {
    return graph.addConst(t, span.toLoc());
  }

  /**
   * A tensor view of a value: tensors as they are, numbers as scalar constants of {@code like}'s
   * dtype.
   */
  Value tensorOf(Val v, Span span, String what) {
    if (v instanceof TensorV t) {
      return t.value();
    }
    if (v instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    fail(
        DiagnosticCode.TYPE_MISMATCH,
        span,
        what + " must be a tensor, got " + Val.describe(v),
        null);
    return null;
  }

  double number(Val v, Span span, String what) {
    if (v instanceof IntV i && i.dim().isKnown()) {
      return i.dim().value();
    }
    if (v instanceof FloatV f) {
      return f.value();
    }
    if (v instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    fail(
        v instanceof TensorV ? DiagnosticCode.NOT_CONSTANT : DiagnosticCode.TYPE_MISMATCH,
        span,
        what + " must be a number known at compile time, got " + Val.describe(v),
        null);
    return 0;
  }

  long intValue(Val v, Span span, String what) {
    if (v instanceof IntV i && i.dim().isKnown()) {
      return i.dim().value();
    }
    if (v instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    fail(
        v instanceof TensorV || v instanceof IntV
            ? DiagnosticCode.NOT_CONSTANT
            : DiagnosticCode.TYPE_MISMATCH,
        span,
        what + " must be an integer known at compile time, got " + Val.describe(v),
        null);
    return 0;
  }

  Dim dimValue(Val v, Span span, String what) {
    if (v instanceof IntV i) {
      return i.dim();
    }
    if (v instanceof FloatV f && f.value() == Math.rint(f.value())) {
      return Dim.of((long) f.value());
    }
    if (v instanceof ErrorV) {
      throw ElabError.INSTANCE;
    }
    fail(
        v instanceof TensorV ? DiagnosticCode.NOT_CONSTANT : DiagnosticCode.TYPE_MISMATCH,
        span,
        what + " must be an integer size, got " + Val.describe(v),
        null);
    return null;
  }
}
