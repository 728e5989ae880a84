package dev.cmod.onnx.importer;

import static dev.cmod.ir.rewrite.Pattern.any;
import static dev.cmod.ir.rewrite.Pattern.anyOf;
import static dev.cmod.ir.rewrite.Pattern.constant;
import static dev.cmod.ir.rewrite.Pattern.op;
import static dev.cmod.ir.rewrite.Pattern.scalar;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.NormalizationOps;
import dev.cmod.ir.op.ReductionOps;
import dev.cmod.ir.op.ShapeOps;
import dev.cmod.ir.rewrite.Match;
import dev.cmod.ir.rewrite.Pattern;
import dev.cmod.ir.rewrite.RewriteDriver;
import dev.cmod.ir.rewrite.Rewriter;
import dev.cmod.ir.rewrite.Rule;
import dev.cmod.ir.rewrite.RuleSet;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Raises the decomposed forms in which exporters write layer norm, GELU and scaled dot-product
 * attention back to the IR's {@code layer_norm}, {@code gelu} and {@code attention}, after an
 * import has translated the file node by node. ONNX has no GELU before opset 20 and no Attention
 * before 23, and PyTorch's older exports spell out LayerNorm too, so an imported encoder otherwise
 * reaches the optimizer and the backend as a few hundred primitives that no fusion rule of the
 * backend (which matches the IR's ops) can see.
 *
 * <p>A pattern is raised only where the replacement computes the same function: f32 values, the
 * statistics over the last axis with the epsilon added to the variance under the square root,
 * GELU's constants (1/√2, √(2/π), 0.044715) to float precision, the attention's scale equal to 1/√d
 * of its head size d (the only scale the IR's attention has) with an additive float mask that does
 * not widen the scores, and no intermediate value read outside the pattern or given as an output.
 * The rules run on the rewrite engine ({@link RewriteDriver}) over the nodes this import added,
 * never over the rest of the program; what they leave dead is removed at once.
 */
public final class PatternRaising {
  private PatternRaising() {}

  /**
   * The prefix of the graph metadata keys that count an import's raised patterns: the key is this
   * and the import's parameter prefix, the value "op count, ..." by op name ({@code cmod explain}
   * prints it; the artifact's metadata keeps it).
   */
  public static final String RAISED_KEY = "cmod.raised.";

  /** Float tolerance of the constants a pattern names (a few ulps of f32). */
  private static final double REL = 1e-6;

  private static final double SQRT2 = Math.sqrt(2);
  private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
  private static final double KAPPA = 0.044715;

  /**
   * ((x - mean(x)) / sqrt(mean((x - mean(x))²) + eps)) · gamma + beta, the means over the last
   * axis: layer_norm(x, gamma, beta, eps).
   */
  private static final Pattern LAYER_NORM =
      comm(
          Op.ADD,
          comm(
                  Op.MUL,
                  op(Op.DIV)
                      .operands(
                          op(Op.SUB)
                              .operands(
                                  any().as("x"),
                                  op(Op.REDUCE_MEAN).operands(any().as("x")).as("mean"))
                              .as("centered"),
                          op(Op.SQRT)
                              .operands(
                                  comm(
                                      Op.ADD,
                                      op(Op.REDUCE_MEAN)
                                          .operands(
                                              anyOf(
                                                  op(Op.POW)
                                                      .operands(any().as("centered"), scalar(2)),
                                                  op(Op.MUL)
                                                      .operands(
                                                          any().as("centered"),
                                                          any().as("centered"))))
                                          .as("var"),
                                      constant().as("eps"))))
                      .as("normed"),
                  rank1("gamma"))
              .as("scaled"),
          rank1("beta"));

  /** x · (1 + erf(x / √2)) · 0.5 in any order of the three factors: gelu(x). */
  private static final Pattern GELU =
      product3(
          scalar(0.5),
          any().as("x"),
          comm(
              Op.ADD,
              op(Op.ERF)
                  .operands(
                      anyOf(
                          op(Op.DIV).operands(any().as("x"), near(SQRT2)),
                          comm(Op.MUL, any().as("x"), near(1 / SQRT2)))),
              scalar(1)));

  /** 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))): gelu(x, approx = "tanh"). */
  private static final Pattern GELU_TANH =
      product3(
          scalar(0.5),
          any().as("x"),
          comm(
              Op.ADD,
              op(Op.TANH)
                  .operands(
                      comm(
                          Op.MUL,
                          near(SQRT_2_OVER_PI),
                          comm(Op.ADD, any().as("x"), comm(Op.MUL, near(KAPPA), cube())))),
              scalar(1)));

  /**
   * softmax((q @ kᵀ) / √d [+ mask]) @ v, the softmax over the last axis, the scale a division by √d
   * or a product with 1/√d: attention(q, k, v [, mask]).
   */
  private static final Pattern ATTENTION =
      op(Op.MATMUL)
          .operands(
              op(Op.SOFTMAX)
                  .operands(
                      anyOf(
                          comm(Op.ADD, scaledScores(), any().as("mask")).as("masked"),
                          scaledScores()))
                  .as("probs"),
              any().as("v"));

  /**
   * The rules of one import, in the order a node is offered them: they match only nodes in {@code
   * scope}, treat the values in {@code held} (the import's results, which the program reads once
   * the import returns) as read outside, and record in {@code moved} what replaces such a value.
   */
  private static RuleSet rules(Predicate<Node> scope, Set<Value> held, Map<Value, Value> moved) {
    Raise raise = new Raise(held, moved);
    return RuleSet.of(
        "import-raising",
        Rule.of(
            "LAYER_NORM",
            LAYER_NORM,
            m -> layerNormExact(m) && internal(m, scope, held, "x", "gamma", "beta"),
            (m, rw) ->
                raise.apply(
                    m,
                    rw,
                    Op.LAYER_NORM,
                    Attrs.of("eps", m.value("eps").node().attrs().getTensor("value").get(0)),
                    m.value("x"),
                    m.value("gamma"),
                    m.value("beta"))),
        Rule.of(
            "GELU",
            GELU,
            m -> geluExact(m) && internal(m, scope, held, "x"),
            (m, rw) -> raise.apply(m, rw, Op.GELU, Attrs.NONE, m.value("x"))),
        Rule.of(
            "GELU_TANH",
            GELU_TANH,
            m -> geluExact(m) && internal(m, scope, held, "x"),
            (m, rw) -> raise.apply(m, rw, Op.GELU, Attrs.of("approx", "tanh"), m.value("x"))),
        Rule.of(
            "ATTENTION",
            ATTENTION,
            m -> attentionExact(m) && internal(m, scope, held, "q", "kt", "v", "mask"),
            raise::attention));
  }

  /**
   * Raises the patterns among the nodes of {@code g} that are not in {@code before} (the nodes one
   * import added), removes the nodes that only the raised patterns read, and counts what was raised
   * under {@link #RAISED_KEY} and {@code prefix} (a second application under the same prefix adds
   * to the count).
   */
  static List<Value> apply(Graph g, Set<Node> before, String prefix, List<Value> results) {
    Map<Value, Value> moved = new java.util.HashMap<>();
    Map<String, Integer> raised = raise(g, before, Set.copyOf(results), moved);
    List<Value> out = new ArrayList<>();
    for (Value v : results) {
      while (moved.containsKey(v)) {
        v = moved.get(v);
      }
      out.add(v);
    }
    if (raised.isEmpty()) {
      return out;
    }
    Map<String, Integer> total = new java.util.TreeMap<>(raised);
    String have = g.metadata().get(RAISED_KEY + prefix);
    if (have != null) {
      for (String part : have.split(", ")) {
        String[] kv = part.split(" ");
        total.merge(kv[0], Integer.parseInt(kv[1]), Integer::sum);
      }
    }
    List<String> parts = new ArrayList<>();
    total.forEach((k, v) -> parts.add(k + " " + v));
    g.metadata().put(RAISED_KEY + prefix, String.join(", ", parts));
    return out;
  }

  /** The raising of {@link #apply}: how many of each IR op were raised (only those raised). */
  private static Map<String, Integer> raise(
      Graph g, Set<Node> before, Set<Value> held, Map<Value, Value> moved) {
    Set<Node> added = Collections.newSetFromMap(new IdentityHashMap<>());
    Set<Node> deadBefore = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Node n : g.nodes()) {
      if (!before.contains(n)) {
        added.add(n);
        if (dead(g, n) && !holds(n, held)) {
          deadBefore.add(n);
        }
      }
    }
    // a result is read once the import returns; once raised, its replacement is
    Predicate<Node> result =
        n -> holds(n, held) && !moved.containsKey(n.out()) || moved.containsValue(n.out());
    RewriteDriver.Result r =
        RewriteDriver.apply(g, rules(added::contains, held, moved), 4, null, result);
    Map<String, Integer> raised = new LinkedHashMap<>();
    if (!r.changed()) {
      return raised;
    }
    r.counts()
        .forEach(
            (rule, count) -> {
              if (count > 0) {
                String op = rule.startsWith("GELU") ? "gelu" : rule.toLowerCase(Locale.ROOT);
                raised.merge(op, count, Integer::sum);
              }
            });
    List<Node> order = new ArrayList<>(g.nodes());
    Collections.reverse(order);
    for (Node n : order) {
      boolean mine = !before.contains(n) && !deadBefore.contains(n);
      if (mine && !result.test(n) && dead(g, n)) {
        g.remove(n);
      }
    }
    return raised;
  }

  // ---------------------------------------------------------------- conditions

  private static boolean layerNormExact(Match m) {
    TensorType x = m.value("x").type();
    int r = x.rank();
    if (!f32(x) || r == 0 || !m.root().type().equals(x)) {
      return false;
    }
    for (String s : List.of("mean", "var")) {
      Attrs a = m.node(s).attrs();
      if (ReductionOps.AXIS.axis(a, r) != r - 1 || !ReductionOps.KEEP.get(a)) {
        return false;
      }
    }
    Tensor eps = m.value("eps").node().attrs().getTensor("value");
    if (eps.size() != 1 || !eps.isFloat() || !(eps.get(0) > 0) || Double.isInfinite(eps.get(0))) {
      return false;
    }
    for (String p : List.of("gamma", "beta")) {
      TensorType t = m.value(p).type();
      if (!f32(t) || !t.dim(0).equals(x.dim(r - 1))) {
        return false;
      }
    }
    return true;
  }

  private static boolean geluExact(Match m) {
    TensorType x = m.value("x").type();
    return f32(x) && m.root().type().equals(x);
  }

  private static boolean attentionExact(Match m) {
    TensorType q = m.value("q").type();
    TensorType kt = m.value("kt").type();
    TensorType v = m.value("v").type();
    int r = q.rank();
    if (r < 2 || kt.rank() != r || v.rank() != r || !f32(q) || !f32(kt) || !f32(v)) {
      return false;
    }
    if (!q.dims().subList(0, r - 2).equals(kt.dims().subList(0, r - 2))
        || !q.dims().subList(0, r - 2).equals(v.dims().subList(0, r - 2))
        || !q.dim(r - 1).isKnown()) {
      return false;
    }
    Node probs = m.node("probs");
    if (NormalizationOps.AXIS.axis(probs.attrs(), r) != r - 1) {
      return false;
    }
    TensorType raw = m.value("raw").type();
    Node scaled = m.node("scaled");
    if (!scaled.type().equals(raw) || !probs.type().equals(raw)) {
      return false;
    }
    Tensor c = m.value("scale").node().attrs().getTensor("value");
    if (c.size() != 1 || !c.isFloat()) {
      return false;
    }
    double root = Math.sqrt(q.dim(r - 1).value());
    double want = scaled.op() == Op.DIV ? root : 1 / root;
    return near(c.get(0), want) && (!m.has("mask") || f32(m.value("mask").type()));
  }

  /**
   * Whether every node of the match between the root and the values named {@code outside} is in
   * {@code scope}, and none but the root is read by a node outside the match, is a model output or
   * is one of the import's results ({@code held}).
   */
  private static boolean internal(
      Match m, Predicate<Node> scope, Set<Value> held, String... outside) {
    Set<Value> stops = new java.util.HashSet<>();
    for (String s : outside) {
      if (m.has(s)) {
        stops.add(m.value(s));
      }
    }
    Set<Node> inside = Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<Node> work = new ArrayDeque<>(List.of(m.root()));
    while (!work.isEmpty()) {
      Node n = work.poll();
      if (!inside.add(n)) {
        continue;
      }
      for (Value o : m.operands(n)) {
        if (!stops.contains(o) && !o.node().op().isLeaf()) {
          work.add(o.node());
        }
      }
    }
    for (Node n : inside) {
      if (!scope.test(n)) {
        return false;
      }
      if (n == m.root()) {
        continue;
      }
      boolean read = m.isModelOutput(n.out()) || held.contains(n.out());
      if (read || !inside.containsAll(m.users(n))) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- rewrites

  /** The rewrites of one import's rules: a raised root that is a result is recorded as moved. */
  private record Raise(Set<Value> held, Map<Value, Value> moved) {
    boolean apply(Match m, Rewriter rw, Op op, Attrs attrs, Value... operands) {
      Node n = rw.create(op, attrs, List.of(operands), m.root().loc());
      return replace(m.root(), n, rw);
    }

    /**
     * The attention of the match: k is kᵀ transposed back, folded into kᵀ's own transpose when it
     * is one (the split-heads transpose of the exported graph, so the backend's multi-head fusion
     * sees its usual form).
     */
    boolean attention(Match m, Rewriter rw) {
      Value kt = m.value("kt");
      int r = kt.type().rank();
      Value base = kt;
      long[] perm = new long[r];
      for (int i = 0; i < r; i++) {
        perm[i] = i;
      }
      if (kt.node().op() == Op.TRANSPOSE) {
        base = m.operands(kt.node()).get(0);
        perm = ShapeOps.PERM.get(kt.node().attrs()).clone();
      }
      long last = perm[r - 1];
      perm[r - 1] = perm[r - 2];
      perm[r - 2] = last;
      Value k = base;
      if (!identity(perm)) {
        k = rw.create(Op.TRANSPOSE, Attrs.of("perm", perm), List.of(base), kt.node().loc()).out();
      }
      List<Value> in = new ArrayList<>(List.of(m.value("q"), k, m.value("v")));
      if (m.has("mask")) {
        in.add(m.value("mask"));
      }
      return replace(m.root(), rw.create(Op.ATTENTION, Attrs.NONE, in, m.root().loc()), rw);
    }

    private boolean replace(Node root, Node by, Rewriter rw) {
      boolean used = rw.replaceOp(root, by.out());
      if (held.contains(root.out())) {
        moved.put(root.out(), by.out());
        return true;
      }
      return used;
    }
  }

  // ---------------------------------------------------------------- pattern helpers

  /** op(a, b) or op(b, a). */
  private static Pattern comm(Op op, Pattern a, Pattern b) {
    return anyOf(op(op).operands(a, b), op(op).operands(b, a));
  }

  /** A product of three factors in any order and grouping, the inner product captured. */
  private static Pattern product3(Pattern a, Pattern b, Pattern c) {
    List<Pattern[]> orders =
        List.of(
            new Pattern[] {a, b, c},
            new Pattern[] {a, c, b},
            new Pattern[] {b, a, c},
            new Pattern[] {b, c, a},
            new Pattern[] {c, a, b},
            new Pattern[] {c, b, a});
    List<Pattern> alts = new ArrayList<>();
    for (Pattern[] o : orders) {
      Pattern inner = op(Op.MUL).operands(o[1], o[2]);
      alts.add(op(Op.MUL).operands(o[0], inner));
      alts.add(op(Op.MUL).operands(inner, o[0]));
    }
    return anyOf(alts.toArray(new Pattern[0]));
  }

  /** x³ as pow(x, 3) or a product of three x. */
  private static Pattern cube() {
    Pattern x = any().as("x");
    Pattern sq = op(Op.MUL).operands(x, x);
    return anyOf(op(Op.POW).operands(x, scalar(3)), comm(Op.MUL, x, sq));
  }

  /** q @ kᵀ divided by, or multiplied with, a constant. */
  private static Pattern scaledScores() {
    Pattern raw = op(Op.MATMUL).operands(any().as("q"), any().as("kt")).as("raw");
    return anyOf(
            op(Op.DIV).operands(raw, constant().as("scale")),
            comm(Op.MUL, raw, constant().as("scale")))
        .as("scaled");
  }

  /** A value of rank 1. */
  private static Pattern rank1(String name) {
    return any().where((v, m) -> v.type().rank() == 1).as(name);
  }

  /** A one-element float constant within float precision of {@code c}. */
  private static Pattern near(double c) {
    return constant()
        .where(
            (v, m) -> {
              Tensor t = v.node().attrs().getTensor("value");
              return t.size() == 1 && t.isFloat() && near(t.get(0), c);
            });
  }

  private static boolean near(double x, double c) {
    return Math.abs(x - c) <= REL * Math.abs(c);
  }

  private static boolean f32(TensorType t) {
    return t.dtype() == DType.F32;
  }

  private static boolean identity(long[] perm) {
    for (int i = 0; i < perm.length; i++) {
      if (perm[i] != i) {
        return false;
      }
    }
    return true;
  }

  /** Whether an output of {@code n} is one of {@code values}. */
  private static boolean holds(Node n, Set<Value> values) {
    for (int i = 0; i < n.outputTypes().size(); i++) {
      if (values.contains(n.out(i))) {
        return true;
      }
    }
    return false;
  }

  private static boolean dead(Graph g, Node n) {
    for (int i = 0; i < n.outputTypes().size(); i++) {
      if (g.outputs().containsValue(n.out(i))) {
        return false;
      }
    }
    // parameters and inputs stay (a parameter is the model's even when unread); constants go
    boolean removable = !n.op().isLeaf() || n.op() == Op.CONST;
    return removable && g.users(n).isEmpty();
  }
}
