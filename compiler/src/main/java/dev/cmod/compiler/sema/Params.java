package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.*;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.*;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model's parameters: {@code param} statements, and every parameter's value, from the weights
 * file or from its initializer, within the size limits. One job: creating parameters (and knowing
 * which exist); the graph and diagnostics are reached through {@link ElabContext}.
 */
final class Params {
  private final ElabContext el;
  private final Set<String> usedWeightKeys = new LinkedHashSet<>();
  private long totalParamElements;

  Params(ElabContext el) {
    this.el = el;
  }

  /** Weight keys that no parameter claimed (typos), after elaboration. */
  Set<String> unusedWeightKeys() {
    Set<String> s = new LinkedHashSet<>(el.opts().weights().keySet());
    s.removeAll(usedWeightKeys);
    return s;
  }

  void param(ParamStmt p, Body body) {
    String name = p.name().text();
    if (p.cond() != null) {
      Val c = el.eval(p.cond(), body, null);
      if (!(c instanceof BoolV b)) {
        el.fail(
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
    TensorType t = Modality.concrete(p.type(), el, body.env);
    for (Dim d : t.dims()) {
      if (!d.isKnown()) {
        el.fail(
            DiagnosticCode.BAD_DIM,
            p.type().span(),
            "the shape of parameter '" + name + "' must be known at compile time, got " + t,
            "derive its sizes from hyperparameters");
      }
      if (d.value() < 0) {
        el.fail(
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
    if (n > Limits.MAX_PARAM_ELEMENTS) {
      el.fail(
          DiagnosticCode.LIMIT,
          p.type().span(),
          "parameter '"
              + name
              + "' would have "
              + (n == Long.MAX_VALUE ? "more than 2^63" : n)
              + " elements; the limit is "
              + Limits.MAX_PARAM_ELEMENTS,
          null);
    }
    Value existing = body.params.get(name);
    if (existing != null) {
      if (!existing.type().equals(t)) {
        el.fail(
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
          new TensorV(Adaptation.adapt(existing, body.child(name), body.hooks, el, p.span())));
      return;
    }
    String path = body.child(name);
    java.util.function.Supplier<Val> init =
        () -> p.init() == null ? new InitV("zeros", List.of()) : el.eval(p.init(), body, null);
    Span initSpan = p.init() == null ? p.span() : p.init().span();
    Value v =
        body.arith != null && body.arith.covers(path)
            ? el.graph()
                .addParam(
                    path,
                    body.arith.materialize(path, t, init, el, p.span(), initSpan),
                    body.trainable,
                    p.span().toLoc())
            : createParam(path, t, init, body.trainable, p.span(), initSpan);
    body.params.put(name, v);
    body.env.define(name, new TensorV(Adaptation.adapt(v, path, body.hooks, el, p.span())));
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
    return el.graph()
        .addParam(path, paramValue(path, t, init, span, initSpan), trainable, span.toLoc());
  }

  /**
   * The value a parameter at {@code path} gets: from the weights file, else from its initializer.
   */
  Tensor paramValue(
      String path, TensorType t, java.util.function.Supplier<Val> init, Span span, Span initSpan) {
    return paramValue(
        path,
        t,
        span,
        () -> {
          long[] shape = t.dims().stream().mapToLong(Dim::value).toArray();
          Tensor v = Inits.make(init.get(), t.dtype(), shape, el.opts().seed(), path, el, initSpan);
          el.facts().defaulted.add(path);
          return v;
        });
  }

  /**
   * Creates a parameter at {@code path} whose value, unless the weights file sets the path, is
   * {@code value} (a checkpoint's tensor, already in cmod's layout).
   */
  Value createParam(String path, Tensor value, boolean trainable, Span span) {
    TensorType t = TensorType.of(value.dtype(), value.shape());
    return el.graph()
        .addParam(path, paramValue(path, t, span, () -> value), trainable, span.toLoc());
  }

  private Tensor paramValue(
      String path, TensorType t, Span span, java.util.function.Supplier<Tensor> otherwise) {
    long[] shape = t.dims().stream().mapToLong(Dim::value).toArray();
    long n;
    try {
      n = Tensor.numel(shape);
    } catch (ArithmeticException | IllegalArgumentException e) {
      n = Long.MAX_VALUE;
    }
    if (n > Limits.MAX_PARAM_ELEMENTS) {
      el.fail(
          DiagnosticCode.LIMIT,
          span,
          "parameter '"
              + path
              + "' "
              + t
              + " would have more than "
              + Limits.MAX_PARAM_ELEMENTS
              + " elements",
          "use smaller sizes");
    }
    totalParamElements += n;
    long totalLimit = Limits.totalParamLimit();
    if (totalParamElements > totalLimit) {
      el.fail(
          DiagnosticCode.LIMIT,
          span,
          "the model's parameters would exceed "
              + totalLimit
              + " elements in all (at '"
              + path
              + "')",
          totalLimit < Limits.MAX_TOTAL_PARAM_ELEMENTS
              ? "with this heap ("
                  + (Runtime.getRuntime().maxMemory() >> 20)
                  + " MiB) cmod holds up to "
                  + totalLimit
                  + " parameters (the values, their ONNX copy and the file: about 16 bytes each); raise it with CMOD_JAVA_OPTS=-Xmx..."
              : "cmod v0 compiles models of up to 2^28 (about 268 M) parameters");
    }
    Tensor value;
    Tensor given = el.opts().weights().get(path);
    if (given != null) {
      usedWeightKeys.add(path);
      if (!Arrays.equals(given.shape(), shape)) {
        el.fail(
            DiagnosticCode.WEIGHTS_SHAPE,
            span,
            "weights for '"
                + path
                + "' in "
                + el.opts().weightsName()
                + " have shape "
                + Arrays.toString(given.shape())
                + ", the parameter is "
                + t,
            "export the weights with the parameter's layout");
      }
      value = convert(given, t.dtype());
    } else {
      value = otherwise.get();
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

  /**
   * How a stacked run-time adapter made a per-example weight from {@code base}: LoRA's {@code base
   * + scale·(a@b)} with the picked factors a [batch, in, r] and b [batch, r, out], or IA³'s {@code
   * base·column} with column [batch, 1, out].
   */
  record Stacked(Value base, Value a, Value b, Value scale, Value column) {}

  private final Map<dev.cmod.ir.graph.Node, Stacked> stacked = new IdentityHashMap<>();

  /** The nodes that spell stacked weights out, in the order they were made. */
  private final List<dev.cmod.ir.graph.Node> stackedNodes = new java.util.ArrayList<>();

  void markStackedWeight(Value w, Stacked parts, List<Value> spelled) {
    stacked.put(w.node(), parts);
    spelled.forEach(v -> stackedNodes.add(v.node()));
  }

  boolean isStackedWeight(Value w) {
    return stacked.containsKey(w.node());
  }

  /**
   * {@code x @ w} for x [batch, m, in] and a stacked weight w, without making w: {@code x@base +
   * scale·((x@a)@b)} for LoRA, {@code (x@base)·column} for IA³, the base taken apart the same way
   * when it is stacked too. Per example that is m·r·(in + out) multiply-adds for a LoRA instead of
   * in·r·out to spell the weight out, and no [batch, in, out] tensor.
   */
  Value stackedMatmul(Value x, Value w, Span span) {
    Stacked p = stacked.get(w.node());
    if (p == null) {
      return el.node(Op.MATMUL, dev.cmod.ir.graph.Attrs.NONE, span, x, w);
    }
    Value base = stackedMatmul(x, p.base(), span);
    if (p.column() != null) {
      return el.node(Op.MUL, dev.cmod.ir.graph.Attrs.NONE, span, base, p.column());
    }
    Value xa = el.node(Op.MATMUL, dev.cmod.ir.graph.Attrs.NONE, span, x, p.a());
    Value low = el.node(Op.MATMUL, dev.cmod.ir.graph.Attrs.NONE, span, xa, p.b());
    return el.node(
        Op.ADD,
        dev.cmod.ir.graph.Attrs.NONE,
        span,
        base,
        el.node(Op.MUL, dev.cmod.ir.graph.Attrs.NONE, span, low, p.scale()));
  }

  /**
   * Removes the spelled-out stacked weights that no computation read (every matmul took them
   * apart), so that even at -O0 the artifact never makes a [batch, in, out] weight it does not use.
   */
  void pruneUnusedStacked(dev.cmod.ir.graph.Graph g) {
    for (int i = stackedNodes.size() - 1; i >= 0; i--) {
      dev.cmod.ir.graph.Node n = stackedNodes.get(i);
      if (g.contains(n) && g.users(n).isEmpty() && !g.outputs().containsValue(n.out())) {
        g.remove(n);
      }
    }
  }

  private Value adapterIndex;

  /**
   * The stacked adapters' index input {@code adapter_index: i64[batch]} (made on first use): which
   * adapter each example runs with.
   */
  Value adapterIndex(Span span) {
    if (adapterIndex == null) {
      adapterIndex =
          el.graph()
              .addInput(
                  AdapterPlan.INDEX_INPUT,
                  TensorType.of(DType.I64, 1).withDims(List.of(Dim.sym("batch"))),
                  span.toLoc());
    }
    return adapterIndex;
  }

  /** Whether the graph has a parameter at {@code path} or below it ({@code path.*}). */
  boolean hasParamUnder(String path) {
    for (dev.cmod.ir.graph.Node n : el.graph().nodes()) {
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
    for (dev.cmod.ir.graph.Node n : el.graph().nodes()) {
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
}
