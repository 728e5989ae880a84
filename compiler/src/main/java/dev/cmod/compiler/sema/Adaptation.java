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
  enum Kind { LORA, IA3 }

  final Kind kind;
  final long rank;
  final double alpha;
  final String basePath;
  final String baseName;
  final List<String> patterns;
  final List<Span> spans;
  final List<Pattern> regexes = new ArrayList<>();
  final boolean[] matched;
  final boolean trainable;
  /** Composed weight per adapted path, reused by later applications. */
  private final Map<String, String[]> factorPaths = new HashMap<>();

  Adaptation(Kind kind, long rank, double alpha, String basePath, String baseName, List<String> patterns, List<Span> spans,
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

  /** {@code *} matches within one path segment, {@code **} across segments; everything else literally. */
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

  /** Applies every active composition that targets {@code path} to the parameter value {@code w}. */
  static Value adapt(Value w, String path, List<Adaptation> hooks, Elaborator el, Span span) {
    Value v = w;
    for (Adaptation a : hooks) {
      v = a.apply(v, path, el, span);
    }
    return v;
  }

  private Value apply(Value w, String path, Elaborator el, Span span) {
    if (!path.startsWith(basePath + ".")) {
      return w;
    }
    String rel = path.substring(basePath.length() + 1);
    int dot = rel.lastIndexOf('.');
    String owner = dot < 0 ? "" : rel.substring(0, dot);
    TensorType t = w.type();
    boolean hit = false;
    for (int i = 0; i < regexes.size(); i++) {
      Pattern r = regexes.get(i);
      boolean direct = r.matcher(rel).matches();
      boolean viaInstance = !owner.isEmpty() && r.matcher(owner).matches() && t.rank() == 2;
      if (direct && (t.rank() != 2 || !t.dtype().isFloat())) {
        el.diags.error(DiagnosticCode.TYPE_MISMATCH, spans.get(i), kind.name().toLowerCase(java.util.Locale.ROOT)
            + " targets 2-D float weights; '" + path + "' is " + t, "target the layer (e.g. \"q\") or its weight (\"q.weight\")");
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
    String[] fp = factorPaths.computeIfAbsent(path, p -> names(p, el));
    long in = t.dim(0).value();
    long out = t.dim(1).value();
    if (kind == Kind.LORA) {
      Value a = factor(el, fp[0], TensorType.of(t.dtype(), in, rank), new InitV("kaiming", List.of()), span);
      Value b = factor(el, fp[1], TensorType.of(t.dtype(), rank, out), new InitV("zeros", List.of()), span);
      Value ab = el.node(Op.MATMUL, Attrs.NONE, span, a, b);
      Value scale = el.constant(Tensor.ofFloats(t.dtype(), new long[0], new float[] {(float) (alpha / rank)}), span);
      return el.node(Op.ADD, Attrs.NONE, span, w, el.node(Op.MUL, Attrs.NONE, span, ab, scale));
    }
    Value l = factor(el, fp[0], TensorType.of(t.dtype(), out), new InitV("ones", List.of()), span);
    return el.node(Op.MUL, Attrs.NONE, span, w, l);
  }

  private final Map<String, Value> made = new HashMap<>();

  private Value factor(Elaborator el, String path, TensorType t, InitV init, Span span) {
    Value v = made.get(path);
    if (v == null) {
      v = el.createParam(path, t, () -> init, trainable, span, span);
      made.put(path, v);
    }
    return v;
  }

  /** Factor names beside the weight: .lora_a/.lora_b (a second LoRA on the same weight gets .lora1_a ...), or .ia3. */
  private String[] names(String path, Elaborator el) {
    String tag = kind == Kind.LORA ? "lora" : "ia3";
    for (int k = 0; ; k++) {
      String t = k == 0 ? tag : tag + k;
      String first = kind == Kind.LORA ? path + "." + t + "_a" : path + "." + t;
      if (!el.hasParam(first) && !el.reservedFactor(first)) {
        el.reserveFactor(first);
        return kind == Kind.LORA ? new String[] {first, path + "." + t + "_b"} : new String[] {first};
      }
    }
  }

  /** After the first application: a pattern that matched nothing is an error naming the closest paths. */
  void checkMatched(Elaborator el) {
    List<String> rels = new ArrayList<>();
    for (Node n : el.graph.nodes()) {
      if (n.op() == Op.PARAM) {
        String p = n.attrs().getString("path");
        if (p.startsWith(basePath + ".") && n.type().rank() == 2 && !p.contains(".lora") && !p.endsWith(".ia3")) {
          rels.add(p.substring(basePath.length() + 1));
        }
      }
    }
    for (int i = 0; i < patterns.size(); i++) {
      if (!matched[i]) {
        String pat = patterns.get(i);
        List<String> near = new ArrayList<>(rels);
        near.sort(Comparator.comparingInt((String r) -> Suggest.distance(pat, r)).thenComparing(r -> r));
        String help = near.isEmpty() ? baseName + " has no 2-D weights"
            : "closest paths in " + baseName + ": " + String.join(", ", near.subList(0, Math.min(3, near.size())));
        el.diags.error(DiagnosticCode.UNKNOWN_NAME, spans.get(i), "\"" + pat + "\" matches no weight of " + baseName, help);
      }
    }
  }

  static boolean isFloat(DType d) {
    return d.isFloat();
  }
}
