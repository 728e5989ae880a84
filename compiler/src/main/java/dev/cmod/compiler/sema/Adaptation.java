package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.Val.InitV;
import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A parameter composition ({@code base with lora(...) on "q", "v"}, {@code with ia3 on ...}): while
 * the adapted instance runs, every parameter it reads whose path (relative to the base) matches a
 * target pattern is replaced by the composed weight. Factors are parameters of their own, created
 * once and shared by every application.
 */
final class Adaptation {
  enum Kind {
    LORA,
    IA3,
    ADAPTER,
    PREFIX,
    PROMPT,
    GROUP
  }

  final Kind kind;
  long rank;
  final double alpha;
  final String basePath;
  final String baseName;
  final List<String> patterns;
  final List<Span> spans;
  final List<Pattern> regexes = new ArrayList<>();
  final boolean[] matched;
  boolean trainable;

  /**
   * Adapter: bottleneck size and placement ("after" or "parallel"); prefix/prompt: length (in
   * {@code rank}).
   */
  String at = "after";

  /** Adapter: the name of its parameter group under the instance (default "adapter"). */
  String adapterName = "adapter";

  /** GROUP (AdapterHub parallel / average): member adapters whose deltas are summed or averaged. */
  List<Adaptation> members = List.of();

  /**
   * For {@code from hyper(e)}: the task embedding [batch, e] that generates the LoRA factors per
   * example.
   */
  Value hyperEmb;

  /**
   * For {@code lora(from = checkpoint)} / {@code ia3(from = ...)}: the PEFT checkpoint's layers.
   */
  PeftRule peft;

  /** Composed weight per adapted path, reused by later applications. */
  private final Map<String, String[]> factorPaths = new HashMap<>();

  Adaptation(
      Kind kind,
      long rank,
      double alpha,
      String basePath,
      String baseName,
      List<String> patterns,
      List<Span> spans,
      boolean trainable) {
    this.kind = kind;
    this.rank = rank;
    this.alpha = alpha;
    this.basePath = basePath;
    this.baseName = baseName;
    this.patterns = patterns;
    this.spans = spans;
    this.matched = new boolean[patterns.size()];
    this.trainable = trainable;
    for (String p : patterns) {
      regexes.add(glob(p));
    }
  }

  /**
   * {@code *} matches within one path segment, {@code **} across segments; everything else
   * literally.
   */
  static Pattern glob(String g) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < g.length(); i++) {
      char c = g.charAt(i);
      if (c == '*' && i + 1 < g.length() && g.charAt(i + 1) == '*') {
        sb.append(".*");
        i++;
      } else if (c == '*') {
        sb.append("[^.]*");
      } else if (c == '?') {
        sb.append("[^.]");
      } else {
        sb.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(sb.toString());
  }

  /**
   * Applies every active composition that targets {@code path} to the parameter value {@code w}.
   */
  static Value adapt(Value w, String path, List<Adaptation> hooks, ElabContext el, Span span) {
    Value v = w;
    for (Adaptation a : hooks) {
      v = a.apply(v, path, el, span);
    }
    return v;
  }

  private Value apply(Value w, String path, ElabContext el, Span span) {
    if ((kind != Kind.LORA && kind != Kind.IA3) || !path.startsWith(basePath + ".")) {
      return w;
    }
    String rel = path.substring(basePath.length() + 1);
    if (peft != null) {
      return peft.apply(this, w, path, rel, el, span);
    }
    int dot = rel.lastIndexOf('.');
    String owner = dot < 0 ? "" : rel.substring(0, dot);
    TensorType t = w.type();
    // a matrix: a 2-D weight, or one already made per example ([batch, in, out]) by a hypernetwork
    boolean matrix =
        t.dtype().isFloat()
            && (t.rank() == 2 || (t.rank() == 3 && w.node().op() != Op.PARAM))
            && t.dim(t.rank() - 2).isKnown()
            && t.dim(t.rank() - 1).isKnown();
    boolean hit = false;
    for (int i = 0; i < regexes.size(); i++) {
      Pattern r = regexes.get(i);
      boolean direct = r.matcher(rel).matches();
      boolean viaInstance = !owner.isEmpty() && r.matcher(owner).matches() && matrix;
      boolean literal = !patterns.get(i).contains("*") && !patterns.get(i).contains("?");
      if (direct && !matrix && !literal) {
        continue; // a wildcard reaches every parameter; it adapts the 2-D weights among them
      }
      if (direct && !matrix) {
        el.diags()
            .error(
                DiagnosticCode.TYPE_MISMATCH,
                spans.get(i),
                kind.name().toLowerCase(java.util.Locale.ROOT)
                    + " targets 2-D float weights; '"
                    + path
                    + "' is "
                    + t,
                "target the layer (e.g. \"q\") or its weight (\"q.weight\")");
        matched[i] = true;
        return w;
      }
      if (direct || viaInstance) {
        matched[i] = true;
        hit = true;
      }
    }
    if (!hit) {
      return w;
    }
    String[] fp = factorPaths.computeIfAbsent(path, p -> factorNames(p, el));
    long in = t.dim(t.rank() - 2).value();
    long out = t.dim(t.rank() - 1).value();
    if (kind == Kind.LORA && hyperEmb != null) {
      return hyperLora(w, fp, in, out, el, span);
    }
    if (el.opts().adapters().mode() == AdapterPlan.Mode.STACKED) {
      return StackedAdapters.adapt(this, w, fp, in, out, el, span);
    }
    for (String f : fp) {
      el.facts().adapterFactors.add(f);
    }
    if (kind == Kind.LORA) {
      Value a =
          factor(
              el, fp[0], TensorType.of(t.dtype(), in, rank), new InitV("kaiming", List.of()), span);
      Value b =
          factor(
              el, fp[1], TensorType.of(t.dtype(), rank, out), new InitV("zeros", List.of()), span);
      Value ab = el.node(Op.MATMUL, Attrs.NONE, span, a, b);
      Value scale =
          el.constant(
              Tensor.ofFloats(t.dtype(), new long[0], new float[] {(float) (alpha / rank)}), span);
      return keepPerExample(
          w,
          el.node(Op.ADD, Attrs.NONE, span, w, el.node(Op.MUL, Attrs.NONE, span, ab, scale)),
          el);
    }
    Value l = factor(el, fp[0], TensorType.of(t.dtype(), out), new InitV("ones", List.of()), span);
    return keepPerExample(w, el.node(Op.MUL, Attrs.NONE, span, w, l), el);
  }

  private static Value keepPerExample(Value before, Value after, ElabContext el) {
    if (el.params().isPerExampleWeight(before)) {
      el.params().markPerExampleWeight(after);
    }
    return after;
  }

  /**
   * Hypernetwork-generated LoRA: per example, lora_a = reshape(e @ hyper_a, [in, r]) and lora_b =
   * reshape(e @ hyper_b, [r, out]); the weight becomes [batch, in, out]. hyper_b starts at zero, so
   * a fresh hypernetwork leaves outputs unchanged.
   */
  private Value hyperLora(Value w, String[] fp, long in, long out, ElabContext el, Span span) {
    TensorType et = hyperEmb.type();
    long e = et.dim(et.rank() - 1).value();
    DType dt = w.type().dtype();
    String ha = fp[0].replace(".lora_a", ".hyper_a").replace(".lora", ".hyper");
    String hb = fp[1].replace(".lora_b", ".hyper_b").replace(".lora", ".hyper");
    Value ga =
        factor(el, ha, TensorType.of(dt, e, in * rank), new InitV("xavier", List.of()), span);
    Value gb =
        factor(el, hb, TensorType.of(dt, e, rank * out), new InitV("zeros", List.of()), span);
    dev.cmod.ir.type.Dim b = et.dim(0);
    Value a =
        el.node(
            Op.RESHAPE,
            Attrs.of(
                "dims", List.of(b, dev.cmod.ir.type.Dim.of(in), dev.cmod.ir.type.Dim.of(rank))),
            span,
            el.node(Op.MATMUL, Attrs.NONE, span, hyperEmb, ga));
    Value bb =
        el.node(
            Op.RESHAPE,
            Attrs.of(
                "dims", List.of(b, dev.cmod.ir.type.Dim.of(rank), dev.cmod.ir.type.Dim.of(out))),
            span,
            el.node(Op.MATMUL, Attrs.NONE, span, hyperEmb, gb));
    Value ab = el.node(Op.MATMUL, Attrs.NONE, span, a, bb);
    Value scale =
        el.constant(Tensor.ofFloats(dt, new long[0], new float[] {(float) (alpha / rank)}), span);
    Value merged =
        el.node(Op.ADD, Attrs.NONE, span, w, el.node(Op.MUL, Attrs.NONE, span, ab, scale));
    el.params().markPerExampleWeight(merged);
    return merged;
  }

  /** Factor parameters by path, made once and shared by every application. */
  final Map<String, Value> made = new HashMap<>();

  private Value factor(ElabContext el, String path, TensorType t, InitV init, Span span) {
    Value v = made.get(path);
    if (v == null) {
      v = el.params().createParam(path, t, () -> init, trainable, span, span);
      made.put(path, v);
    }
    return v;
  }

  /**
   * Factor names beside the weight: .lora_a/.lora_b (a second LoRA on the same weight gets .lora1_a
   * ...), or .ia3.
   */
  String[] factorNames(String path, ElabContext el) {
    String tag = kind == Kind.LORA ? "lora" : "ia3";
    for (int k = 0; ; k++) {
      String t = k == 0 ? tag : tag + k;
      String first = kind == Kind.LORA ? path + "." + t + "_a" : path + "." + t;
      if (!el.params().hasParam(first) && !el.params().reservedFactor(first)) {
        el.params().reserveFactor(first);
        return kind == Kind.LORA
            ? new String[] {first, path + "." + t + "_b"}
            : new String[] {first};
      }
    }
  }

  /**
   * Whether instance {@code instPath} is a target (patterns over instance paths relative to the
   * base).
   */
  private boolean targetsInstance(String instPath) {
    String rel;
    if (instPath.equals(basePath)) {
      rel = ""; // the base itself: matched by "", "*" or "**"
    } else if (instPath.startsWith(basePath + ".")) {
      rel = instPath.substring(basePath.length() + 1);
    } else {
      return false;
    }
    boolean hit = false;
    for (int i = 0; i < regexes.size(); i++) {
      if (regexes.get(i).matcher(rel).matches()) {
        matched[i] = true;
        hit = true;
      }
    }
    return hit;
  }

  /**
   * Function composition: bottleneck adapters on the targeted instances' results. after: y +
   * up(relu(down(y))); parallel: y + up(relu(down(x))). up starts at zero (identity).
   */
  static Value wrapResult(
      String instPath, Value x, Value y, List<Adaptation> hooks, ElabContext el, Span span) {
    Value out = y;
    for (Adaptation a : hooks) {
      if (a.kind == Kind.ADAPTER && a.targetsInstance(instPath)) {
        out = el.node(Op.ADD, Attrs.NONE, span, out, a.adapterDelta(instPath, x, out, el, span));
      } else if (a.kind == Kind.GROUP) {
        if (a.at.equals("split")) {
          out = a.splitBlock(instPath, x, out, el, span);
          continue;
        }
        List<Value> deltas = new ArrayList<>();
        for (Adaptation m : a.members) {
          if (m.targetsInstance(instPath)) {
            deltas.add(m.adapterDelta(instPath, x, out, el, span));
          }
        }
        if (deltas.isEmpty()) {
          continue;
        }
        if (a.at.equals("fuse")) {
          out = a.fusion(instPath, out, deltas, el, span);
          continue;
        }
        Value sum = deltas.get(0);
        for (int i = 1; i < deltas.size(); i++) {
          sum = el.node(Op.ADD, Attrs.NONE, span, sum, deltas.get(i));
        }
        if (a.at.equals("average") && deltas.size() > 1) {
          Value n =
              el.constant(
                  Tensor.ofFloats(sum.type().dtype(), new long[0], new float[] {deltas.size()}),
                  span);
          sum = el.node(Op.DIV, Attrs.NONE, span, sum, n);
        }
        out = el.node(Op.ADD, Attrs.NONE, span, out, sum);
      }
    }
    return out;
  }

  /**
   * AdapterHub Split: positions before {@code splitAt} along the sequence axis go through the first
   * member adapter, the rest through the second.
   */
  private Value splitBlock(String instPath, Value x, Value y, ElabContext el, Span span) {
    Adaptation first = members.get(0);
    Adaptation second = members.get(1);
    if (!first.targetsInstance(instPath) || !second.targetsInstance(instPath)) {
      return y;
    }
    TensorType t = y.type();
    if (t.rank() < 3) {
      el.fail(
          DiagnosticCode.SHAPE_MISMATCH,
          span,
          "split needs a sequence [batch, seq, d] at " + instPath + ", got " + t,
          null);
    }
    int axis = t.rank() - 2;
    dev.cmod.ir.type.Dim len = t.dim(axis);
    dev.cmod.ir.type.Dim at = dev.cmod.ir.type.Dim.of(rank);
    if (len.isKnown() && len.value() < rank) {
      el.fail(
          DiagnosticCode.BAD_DIM,
          span,
          "split at " + rank + " is past the sequence length " + len,
          null);
    }
    Value[] parts = new Value[2];
    for (int i = 0; i < 2; i++) {
      Attrs sl =
          Attrs.of(
              "axis",
              axis,
              "start",
              i == 0 ? dev.cmod.ir.type.Dim.of(0) : at,
              "end",
              i == 0 ? at : len);
      Value ys = el.node(Op.SLICE, sl, span, y);
      Value xs =
          x.type().rank() == t.rank() && x.type().dim(axis).equals(len)
              ? el.node(Op.SLICE, sl, span, x)
              : x;
      parts[i] = (i == 0 ? first : second).adapterDelta(instPath, xs, ys, el, span);
    }
    Value delta = el.node(Op.CONCAT, Attrs.of("axis", axis), span, parts[0], parts[1]);
    return el.node(Op.ADD, Attrs.NONE, span, y, delta);
  }

  /**
   * AdapterFusion: each member's output y + delta_i is scored against the layer's output y by
   * (y·query)·((y + delta_i)·key)/√d; the result is Σ softmax_i · ((y + delta_i)·value). value
   * starts as the identity, so fusing fresh adapters changes nothing.
   */
  private Value fusion(String instPath, Value y, List<Value> deltas, ElabContext el, Span span) {
    TensorType t = y.type();
    int r = t.rank();
    long d = t.dim(r - 1).value();
    String base =
        factorPaths.computeIfAbsent(instPath, p -> new String[] {uniqueName(p + ".fusion", el)})[0];
    DType dt = t.dtype();
    Value wq =
        factor(el, base + ".query", TensorType.of(dt, d, d), new InitV("xavier", List.of()), span);
    Value wk =
        factor(el, base + ".key", TensorType.of(dt, d, d), new InitV("xavier", List.of()), span);
    Value wv =
        factor(el, base + ".value", TensorType.of(dt, d, d), new InitV("eye", List.of()), span);
    Value q = el.node(Op.MATMUL, Attrs.NONE, span, y, wq);
    Value scale =
        el.constant(
            Tensor.ofFloats(dt, new long[0], new float[] {(float) (1 / Math.sqrt(d))}), span);
    List<Value> scores = new ArrayList<>();
    List<Value> values = new ArrayList<>();
    for (Value delta : deltas) {
      Value o = el.node(Op.ADD, Attrs.NONE, span, y, delta);
      Value k = el.node(Op.MATMUL, Attrs.NONE, span, o, wk);
      scores.add(
          el.node(
              Op.MUL,
              Attrs.NONE,
              span,
              el.node(
                  Op.REDUCE_SUM,
                  Attrs.of("axis", r - 1, "keep", true),
                  span,
                  el.node(Op.MUL, Attrs.NONE, span, q, k)),
              scale));
      values.add(el.node(Op.MATMUL, Attrs.NONE, span, o, wv));
    }
    Value sc =
        scores.size() == 1
            ? scores.get(0)
            : el.node(Op.CONCAT, Attrs.of("axis", r - 1), span, scores.toArray(new Value[0]));
    Value p = el.node(Op.SOFTMAX, Attrs.of("axis", r - 1), span, sc);
    Value acc = null;
    for (int i = 0; i < values.size(); i++) {
      Value pi =
          el.node(
              Op.SLICE,
              Attrs.of(
                  "axis",
                  r - 1,
                  "start",
                  dev.cmod.ir.type.Dim.of(i),
                  "end",
                  dev.cmod.ir.type.Dim.of(i + 1)),
              span,
              p);
      Value term = el.node(Op.MUL, Attrs.NONE, span, values.get(i), pi);
      acc = acc == null ? term : el.node(Op.ADD, Attrs.NONE, span, acc, term);
    }
    return acc;
  }

  /**
   * The adapter's contribution up(relu(down(src))) for one targeted instance (src = y after, x
   * parallel).
   */
  private Value adapterDelta(String instPath, Value x, Value y, ElabContext el, Span span) {
    Value src = at.equals("parallel") ? x : y;
    TensorType ts = src.type();
    TensorType ty = y.type();
    if (ts.rank() == 0
        || !ts.dim(ts.rank() - 1).isKnown()
        || !ty.dim(ty.rank() - 1).isKnown()
        || !ty.dtype().isFloat()) {
      el.fail(
          DiagnosticCode.SHAPE_MISMATCH,
          span,
          "an adapter needs float tensors with a known feature size; " + instPath + " gives " + ty,
          null);
    }
    long din = ts.dim(ts.rank() - 1).value();
    long dout = ty.dim(ty.rank() - 1).value();
    String base =
        factorPaths
            .computeIfAbsent(instPath, p -> new String[] {uniqueName(p + "." + adapterName, el)})[
            0];
    DType dt = ty.dtype();
    Value dw =
        factor(
            el,
            base + ".down.weight",
            TensorType.of(dt, din, rank),
            new InitV("xavier", List.of()),
            span);
    Value db =
        factor(
            el, base + ".down.bias", TensorType.of(dt, rank), new InitV("zeros", List.of()), span);
    Value uw =
        factor(
            el,
            base + ".up.weight",
            TensorType.of(dt, rank, dout),
            new InitV("zeros", List.of()),
            span);
    Value ub =
        factor(el, base + ".up.bias", TensorType.of(dt, dout), new InitV("zeros", List.of()), span);
    Value h =
        el.node(
            Op.RELU,
            Attrs.NONE,
            span,
            el.node(Op.ADD, Attrs.NONE, span, el.node(Op.MATMUL, Attrs.NONE, span, src, dw), db));
    return el.node(Op.ADD, Attrs.NONE, span, el.node(Op.MATMUL, Attrs.NONE, span, h, uw), ub);
  }

  private String uniqueName(String stem, ElabContext el) {
    for (int k = 0; ; k++) {
      String n = k == 0 ? stem : stem + k;
      if (!el.params().reservedFactor(n) && !el.params().hasParamUnder(n)) {
        el.params().reserveFactor(n);
        return n;
      }
    }
  }

  /**
   * Keys and values after prefix tuning, and how many positions were prepended (the causal mask's
   * offset).
   */
  record Prefixed(Value k, Value v, long added) {}

  /**
   * Input composition inside attention: learned key/value prefixes of {@code rank} positions for
   * targeted instances. With causal attention every query also sees all prefix positions.
   */
  static Prefixed prefixKeysValues(
      String instPath,
      Value k,
      Value v,
      boolean masked,
      List<Adaptation> hooks,
      ElabContext el,
      Span span) {
    Value kk = k;
    Value vv = v;
    long added = 0;
    for (Adaptation a : hooks) {
      if (a.kind == Kind.PREFIX && a.targetsInstance(instPath)) {
        if (masked) {
          el.fail(
              DiagnosticCode.UNSUPPORTED,
              a.spans.get(0),
              "prefix tuning on attention with an explicit mask is not supported yet",
              null);
        }
        String base =
            a.factorPaths
                .computeIfAbsent(instPath, p -> new String[] {a.uniqueName(p + ".prefix", el)})[0];
        kk = a.prepend(base + "_k", kk, el, span);
        vv = a.prepend(base + "_v", vv, el, span);
        added += a.rank;
      }
    }
    return new Prefixed(kk, vv, added);
  }

  /**
   * Soft prompt tokens for an application of the adapted instance (one parameter per prompt rule).
   */
  Value prompt(Value x, ElabContext el, Span span) {
    String path =
        factorPaths
            .computeIfAbsent("<prompt>", p -> new String[] {uniqueName(basePath + ".prompt", el)})[
            0];
    return prepend(path, x, el, span);
  }

  /**
   * Prepends a learned [..., length, d] block (leading axes after the first broadcast) along axis
   * -2.
   */
  Value prepend(String path, Value x, ElabContext el, Span span) {
    TensorType t = x.type();
    if (t.rank() < 3) {
      el.fail(
          DiagnosticCode.SHAPE_MISMATCH,
          span,
          kind.name().toLowerCase(java.util.Locale.ROOT)
              + " needs a sequence [batch, ..., seq, d], got "
              + t,
          "apply it to inputs with a sequence axis, e.g. f32[seq, d]");
    }
    List<dev.cmod.ir.type.Dim> pd = new ArrayList<>(t.dims().subList(1, t.rank()));
    pd.set(pd.size() - 2, dev.cmod.ir.type.Dim.of(rank));
    for (dev.cmod.ir.type.Dim d : pd) {
      if (!d.isKnown()) {
        el.fail(
            DiagnosticCode.SHAPE_MISMATCH,
            span,
            "learned prefixes need known sizes apart from batch and sequence, got " + t,
            null);
      }
    }
    long[] shape = pd.stream().mapToLong(dev.cmod.ir.type.Dim::value).toArray();
    Value p =
        factor(el, path, TensorType.of(t.dtype(), shape), new InitV("normal", List.of(0.02)), span);
    List<dev.cmod.ir.type.Dim> full = new ArrayList<>(t.dims());
    full.set(t.rank() - 2, dev.cmod.ir.type.Dim.of(rank));
    Value b = el.node(Op.BROADCAST, Attrs.of("dims", full), span, p);
    return el.node(Op.CONCAT, Attrs.of("axis", t.rank() - 2), span, b, x);
  }

  /**
   * After the first application: a pattern that matched nothing is an error naming the closest
   * paths.
   */
  void checkMatched(ElabContext el) {
    if (kind == Kind.GROUP) {
      members.forEach(m -> m.checkMatched(el));
      return;
    }
    if (peft != null) {
      peft.checkAllClaimed(el);
      return;
    }
    List<String> rels = new ArrayList<>();
    for (Node n : el.graph().nodes()) {
      if (n.op() == Op.PARAM) {
        String p = n.attrs().getString("path");
        if (p.startsWith(basePath + ".")
            && !p.contains(".lora")
            && !p.contains(".hyper")
            && !p.endsWith(".ia3")
            && !p.contains(".adapter")
            && !p.contains("." + adapterName + ".")
            && !p.contains(".prefix")) {
          String rel = p.substring(basePath.length() + 1);
          if (kind == Kind.LORA || kind == Kind.IA3) {
            if (n.type().rank() == 2) {
              rels.add(rel);
            }
          } else if (rel.contains(".") && !rels.contains(rel.substring(0, rel.lastIndexOf('.')))) {
            rels.add(rel.substring(0, rel.lastIndexOf('.')));
          }
        }
      }
    }
    for (int i = 0; i < patterns.size(); i++) {
      if (!matched[i]) {
        String pat = patterns.get(i);
        List<String> near = new ArrayList<>(rels);
        near.sort(
            Comparator.comparingInt((String r) -> Suggest.distance(pat, r)).thenComparing(r -> r));
        boolean opaque = el.graph().nodes().stream().anyMatch(n -> n.op() == Op.ONNX_REGION);
        String help =
            near.isEmpty()
                ? baseName
                    + " has no such targets"
                    + (opaque
                        ? "; an imported model's weights inside opaque ONNX regions (run by ONNX"
                            + " Runtime) cannot be adapted: `cmod explain` lists the regions"
                        : "")
                : "closest paths in "
                    + baseName
                    + ": "
                    + String.join(", ", near.subList(0, Math.min(3, near.size())));
        el.diags()
            .error(
                DiagnosticCode.UNKNOWN_NAME,
                spans.get(i),
                "\""
                    + pat
                    + "\" matches no "
                    + (kind == Kind.LORA || kind == Kind.IA3 ? "weight" : "layer")
                    + " of "
                    + baseName,
                help);
      }
    }
  }

  static boolean isFloat(DType d) {
    return d.isFloat();
  }
}
