package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.IndexingOps;
import dev.cmod.ir.op.LeafOps;
import dev.cmod.ir.rewrite.ConstantFolder;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Makes routing sparse where that is cheaper (-O2). The dense form of a route, {@code Σ_e y_e ·
 * gate_e}, runs every expert on every token although top-k gates are zero for all but k of them.
 * This pass rewrites a {@code route ... by topk(k)} node into sparse dispatch: per expert, the
 * positions of the tokens whose gate is not zero ({@code nonzero}), their rows gathered ({@code
 * take}), the expert built again on those rows only, and the gates at those positions; then all
 * experts' rows, times their gates, are added back at their positions by one {@code scatter_add},
 * in expert order, so each token's sum is the dense form's sum without its zero terms. The gates
 * are the dense form's own, so ties between gate scores are decided as there (the lower expert
 * index wins, as in topk).
 *
 * <p>The cost model ({@link #decide}) compares the dense work with the sparse work plus a dispatch
 * overhead per token and per expert; few experts, cheap experts or tiny token counts stay dense.
 * Only experts that are row-wise can be dispatched ({@link ExpertCone}). Whatever the mode, experts
 * whose gate column is zero in gates known at compile time (constants, frozen parameters) are
 * removed. Each decision is a note, so {@code cmod explain --passes} says which form and why;
 * routes it leaves alone are expanded densely by {@code lower-routing}.
 */
final class SparseRouting implements Pass {
  /** Tokens assumed when the token count is symbolic (the pass does not see the where bounds). */
  static final long ASSUMED_TOKENS = 64;

  /**
   * Fixed cost of dispatching to one expert, in FLOP-equivalents: about six more runtime nodes per
   * expert (its mask row, nonzero, the gathered rows, its gate column and gathered gates), each a
   * microsecond or a few. Checked on moe_lora_topk (4 small experts, top-2): the rule keeps 8
   * tokens dense, where dispatch measured 1.2× dense on ONNX Runtime, and makes 64 sparse, where it
   * measured 0.95×.
   */
  static final double PER_EXPERT_CALL = 30_000;

  @Override
  public String name() {
    return "sparse-routing";
  }

  @Override
  public boolean run(Graph g, PassContext cx) {
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (n.op() == Op.ROUTE) {
        changed |= route(g, n, cx);
      }
    }
    return changed;
  }

  private static boolean route(Graph g, Node route, PassContext cx) {
    List<Value> in = g.operands(route);
    Value gates = in.get(0);
    int n = in.size() - 1;
    String at = "route at " + route.loc();
    Tensor fixed = constantGates(g, gates);
    if (fixed != null) {
      List<Integer> kept = reachable(fixed, n);
      if (kept.size() < n) {
        dense(g, route, kept);
        cx.count("unreachable-experts", n - kept.size());
        cx.note(
            at
                + ": the gates are known at compile time and only experts "
                + kept
                + " of "
                + n
                + " have a non-zero gate; the others are removed");
        return true;
      }
    }
    Node topk = topkOf(g, gates);
    String mode = route.attrs().getString("mode");
    if (!"topk".equals(mode) || topk == null) {
      cx.note(
          at
              + (mode.equals("soft")
                  ? ": dense (soft gates weight every expert on every token)"
                  : ": dense (" + mode + " routing; sparse dispatch is for top-k routes)"));
      return false;
    }
    Value x = routedValue(g, topk);
    long k = IndexingOps.K.get(topk.attrs());
    if (x == null
        || x.type().rank() < 2
        || x.type().dtype() != DType.F32
        || !x.type().dim(x.type().rank() - 1).isKnown()) {
      cx.note(
          at + ": dense (the routed value is not a f32 sequence of tokens with known features)");
      return false;
    }
    List<Dim> tokens = x.type().dims().subList(0, x.type().rank() - 1);
    Set<Node> dependents = ExpertCone.dependents(g, x);
    List<ExpertCone> cones = new ArrayList<>();
    double work = 0;
    for (int e = 0; e < n; e++) {
      ExpertCone.Found f = ExpertCone.of(g, x, in.get(e + 1), dependents);
      if (f.cone() == null) {
        cx.note(at + ": dense (expert " + e + " is not row-wise: " + f.refusal() + ")");
        return false;
      }
      cones.add(f.cone());
      work += f.cone().flopsPerToken(g, tokens);
    }
    String shared = sharedExpert(g, in.subList(1, in.size()), cones);
    if (shared != null) {
      cx.note(at + ": dense (" + shared + ")");
      return false;
    }
    long features = x.type().dim(x.type().rank() - 1).value();
    long outFeatures = ExpertCone.atOneLong(route.type().dim(route.type().rank() - 1));
    Decision d = decide(n, k, work, features, outFeatures, tokenCount(tokens));
    cx.note(at + ": " + d.describe(n, k));
    if (!d.sparse()) {
      return false;
    }
    sparse(g, route, x, cones);
    cx.count("sparse", 1);
    return true;
  }

  /**
   * The cost rule, in FLOP-equivalents for T tokens: dense = T·W (W = every expert's work per
   * token); sparse = T·(k/n)·W + T·n·(2·d_in + 3·d_out + 8) (per expert and token: the mask, the
   * gathered row, the weighted row and its scatter) + n·{@link #PER_EXPERT_CALL}. Sparse when
   * cheaper; k = n never is.
   */
  static Decision decide(int n, long k, double work, long dIn, long dOut, Tokens t) {
    double dense = t.count() * work;
    double sparse =
        t.count() * (work * k / n + n * (2.0 * dIn + 3.0 * dOut + 8)) + n * PER_EXPERT_CALL;
    return new Decision(k < n && sparse < dense, dense, sparse, t);
  }

  /** The token count the cost model uses: exact when every token axis is known. */
  record Tokens(long count, boolean known) {}

  /** What the cost model chose, with its two estimates. */
  record Decision(boolean sparse, double dense, double sparseCost, Tokens tokens) {
    String describe(int n, long k) {
      String why =
          String.format(
              Locale.ROOT,
              "top-%d of %d experts at %d tokens per example%s: est. %.3g FLOPs sparse vs %.3g dense (%.2fx)",
              k,
              n,
              tokens.count(),
              tokens.known() ? "" : " (token count symbolic, costed at " + ASSUMED_TOKENS + ")",
              sparseCost,
              dense,
              sparseCost / dense);
      return (sparse ? "sparse dispatch, " : "dense, ") + why;
    }
  }

  /** Tokens per example: the batch axis counts 1, as in {@code Cost}. */
  private static Tokens tokenCount(List<Dim> tokens) {
    long t = 1;
    for (Dim d : tokens) {
      if (d.toString().equals("batch")) {
        continue;
      }
      if (!d.isKnown()) {
        return new Tokens(ASSUMED_TOKENS, false);
      }
      t *= d.value();
    }
    return new Tokens(t, true);
  }

  /**
   * Why dispatch would add work because an expert's output is computed on every token anyway — the
   * same computation outside the route, which {@code cse} will merge with it (the experts of a soft
   * route over the same value and the same experts, say) — or null.
   */
  private static String sharedExpert(Graph g, List<Value> outputs, List<ExpertCone> cones) {
    Set<Node> mine = new HashSet<>();
    cones.forEach(c -> mine.addAll(c.nodes));
    Map<Node, Integer> canon = canonical(g);
    for (int e = 0; e < outputs.size(); e++) {
      Node y = outputs.get(e).node();
      if (!mine.contains(y)) {
        continue;
      }
      for (Node n : g.nodes()) {
        if (!mine.contains(n) && n.op() != Op.ROUTE && canon.get(n).equals(canon.get(y))) {
          return "expert "
              + e
              + "'s output is also computed on every token outside this route, as "
              + n
              + ", so dispatch would only add work";
        }
      }
    }
    return null;
  }

  /** Each node's representative as common-subexpression elimination would merge them. */
  private static Map<Node, Integer> canonical(Graph g) {
    Map<Node, Integer> canon = new HashMap<>();
    Map<String, Integer> first = new HashMap<>();
    for (Node n : g.nodes()) {
      if (n.op() == Op.INPUT || n.op() == Op.PARAM || n.op() == Op.ROUTE) {
        canon.put(n, n.id());
        continue;
      }
      StringBuilder key = new StringBuilder(n.op().name()).append(n.attrs().render(true));
      for (Value v : g.operands(n)) {
        key.append('%').append(canon.get(v.node())).append('#').append(v.index());
      }
      canon.put(n, first.computeIfAbsent(key.toString(), k -> n.id()));
    }
    return canon;
  }

  /** The topk node of the gates elaboration builds for {@code by topk(k)}, or null. */
  private static Node topkOf(Graph g, Value gates) {
    // gates = reduce_sum(one_hot(topk.indices) * unsqueeze(topk.values / Σ topk.values))
    Node sum = gates.node();
    if (sum.op() != Op.REDUCE_SUM) {
      return null;
    }
    Node mul = g.operands(sum).get(0).node();
    if (mul.op() != Op.MUL) {
      return null;
    }
    Node hot = g.operands(mul).get(0).node();
    if (hot.op() != Op.ONE_HOT) {
      return null;
    }
    Node top = g.operands(hot).get(0).node();
    return top.op() == Op.TOPK ? top : null;
  }

  private static Value routedValue(Graph g, Node topk) {
    // topk(softmax(x @ router))
    Node soft = g.operands(topk).get(0).node();
    if (soft.op() != Op.SOFTMAX) {
      return null;
    }
    Node mm = g.operands(soft).get(0).node();
    return mm.op() == Op.MATMUL ? g.operands(mm).get(0) : null;
  }

  /** The gates' value when only constants and frozen parameters make them, else null. */
  private static Tensor constantGates(Graph g, Value gates) {
    Map<Node, List<Tensor>> memo = new HashMap<>();
    List<Tensor> v = evaluate(g, gates.node(), memo);
    return v == null ? null : v.get(gates.index());
  }

  private static List<Tensor> evaluate(Graph g, Node n, Map<Node, List<Tensor>> memo) {
    if (memo.containsKey(n)) {
      return memo.get(n);
    }
    List<Tensor> out = null;
    if (n.op() == Op.CONST
        || (n.op() == Op.PARAM
            && !LeafOps.TRAINABLE.get(n.attrs())
            && !LeafOps.OVERRIDABLE.get(n.attrs()))) {
      out = List.of(LeafOps.VALUE.get(n.attrs()));
    } else if (!n.op().isLeaf() && n.op() != Op.ROUTE && ConstantFolder.small(n)) {
      List<Tensor> args = new ArrayList<>();
      for (Value v : g.operands(n)) {
        List<Tensor> a = evaluate(g, v.node(), memo);
        if (a == null) {
          args = null;
          break;
        }
        args.add(a.get(v.index()));
      }
      out = args == null ? null : ConstantFolder.evaluate(n, args);
    }
    memo.put(n, out);
    return out;
  }

  /** The experts whose column of the gates has a non-zero entry (expert 0 when none has). */
  private static List<Integer> reachable(Tensor gates, int n) {
    float[] v = gates.floats();
    List<Integer> kept = new ArrayList<>();
    for (int e = 0; e < n; e++) {
      for (int i = e; i < v.length; i += n) {
        if (v[i] != 0) {
          kept.add(e);
          break;
        }
      }
    }
    return kept.isEmpty() ? List.of(0) : kept;
  }

  /** The dense form over the kept experts only. */
  private static void dense(Graph g, Node route, List<Integer> kept) {
    List<Value> in = g.operands(route);
    Value gates = in.get(0);
    int gl = gates.type().rank() - 1;
    Value acc = null;
    for (int e : kept) {
      Value gate =
          g.add(
                  Op.SLICE,
                  Attrs.of("axis", gl, "start", Dim.of(e), "end", Dim.of(e + 1)),
                  List.of(gates),
                  route.loc())
              .out();
      Value term = g.add(Op.MUL, Attrs.NONE, List.of(in.get(e + 1), gate), route.loc()).out();
      acc = acc == null ? term : g.add(Op.ADD, Attrs.NONE, List.of(acc, term), route.loc()).out();
    }
    g.replaceAllUses(route.out(), acc);
    g.remove(route);
  }

  /** Replaces the route by sparse dispatch over the experts' cones. */
  private static void sparse(Graph g, Node route, Value x, List<ExpertCone> cones) {
    var loc = route.loc();
    Value gates = g.operands(route).get(0);
    TensorType out = route.type();
    int r = x.type().rank();
    List<Dim> tokens = x.type().dims().subList(0, r - 1);
    Dim t = Dim.of(1);
    for (Dim d : tokens) {
      t = t.times(d);
    }
    Value rows = r == 2 ? x : flat(g, x, t, loc);
    Value gateRows = r == 2 ? gates : flat(g, gates, t, loc);
    Value zero = g.addConst(Tensor.ofFloats(DType.F32, new long[0], new float[] {0f}), loc);
    Dim dOut = out.dim(r - 1);
    Value acc = g.add(Op.BROADCAST, Attrs.of("dims", List.of(t, dOut)), List.of(zero), loc).out();
    // the masks of every expert at once, one row per expert: which tokens have a non-zero gate
    Value perExpert =
        g.add(Op.TRANSPOSE, Attrs.of("perm", new long[] {1, 0}), List.of(gateRows), loc).out();
    Value masks = g.add(Op.NOT_EQUAL, Attrs.NONE, List.of(perExpert, zero), loc).out();
    List<Value> positions = new ArrayList<>();
    List<Value> weights = new ArrayList<>();
    List<Value> outputs = new ArrayList<>();
    for (int e = 0; e < cones.size(); e++) {
      Value which = g.addConst(Tensor.ofLongs(DType.I64, new long[0], new long[] {e}), loc);
      Value mask = g.add(Op.TAKE, Attrs.NONE, List.of(masks, which), loc).out();
      String count = "route" + route.id() + "_expert" + e;
      Value at = g.add(Op.NONZERO, Attrs.of("count", count), List.of(mask), loc).out();
      Value picked = g.add(Op.TAKE, Attrs.NONE, List.of(rows, at), loc).out();
      Value gate =
          g.add(
                  Op.SLICE,
                  Attrs.of("axis", 1L, "start", Dim.of(e), "end", Dim.of(e + 1)),
                  List.of(gateRows),
                  loc)
              .out();
      positions.add(at);
      weights.add(g.add(Op.TAKE, Attrs.NONE, List.of(gate, at), loc).out());
      outputs.add(cones.get(e).cloneOn(g, x, picked));
    }
    // every expert's rows times their gates, then one scatter back, in expert order: a token's
    // terms add up as in the dense sum (without its zero terms)
    Value ids = g.add(Op.CONCAT, Attrs.of("axis", 0L), positions, loc).out();
    Value ys = g.add(Op.CONCAT, Attrs.of("axis", 0L), outputs, loc).out();
    Value ws = g.add(Op.CONCAT, Attrs.of("axis", 0L), weights, loc).out();
    Value weighted = g.add(Op.MUL, Attrs.NONE, List.of(ys, ws), loc).out();
    acc = g.add(Op.SCATTER_ADD, Attrs.NONE, List.of(acc, ids, weighted), loc).out();
    if (r != 2) {
      acc = g.add(Op.RESHAPE, Attrs.of("dims", out.dims()), List.of(acc), loc).out();
    }
    g.replaceAllUses(route.out(), acc);
    g.remove(route);
  }

  private static Value flat(Graph g, Value v, Dim t, dev.cmod.ir.graph.SourceLoc loc) {
    Dim last = v.type().dim(v.type().rank() - 1);
    return g.add(Op.RESHAPE, Attrs.of("dims", List.of(t, last)), List.of(v), loc).out();
  }
}
