package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.op.DimSize;
import dev.cmod.ir.op.NormalizationOps;
import dev.cmod.ir.op.OpDefs;
import dev.cmod.ir.op.ReductionOps;
import dev.cmod.ir.type.Dim;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One expert of a route as the nodes between the routed value x and the expert's output: what
 * sparse dispatch runs on the gathered rows of the tokens routed to it. Sparse dispatch is exact
 * only when the expert is row-wise — each token's output depends on that token's row alone — so
 * {@link #of} accepts only ops that keep the token axes (all but the last) and act along the
 * feature axis: elementwise ops whose other operands broadcast along the features, x @ W, the
 * norms, softmax and reductions over the last axis. Anything else (attention, a reshape, a
 * reduction over tokens) keeps the route dense.
 */
final class ExpertCone {
  /** The cone's nodes in topological order (empty when the expert is the identity). */
  final List<Node> nodes;

  final Value output;

  private ExpertCone(List<Node> nodes, Value output) {
    this.nodes = nodes;
    this.output = output;
  }

  /** A reason the expert is not row-wise, or null. */
  record Found(ExpertCone cone, String refusal) {}

  /**
   * The cone of {@code y} over {@code x}, or why it cannot be run on gathered rows. {@code
   * dependents} holds every node that depends on x.
   */
  static Found of(Graph g, Value x, Value y, Set<Node> dependents) {
    if (y.equals(x)) {
      return new Found(new ExpertCone(List.of(), y), null);
    }
    if (!dependents.contains(y.node())) {
      return new Found(null, "its output does not depend on the routed value");
    }
    Set<Node> in = new HashSet<>();
    Deque<Node> todo = new ArrayDeque<>(List.of(y.node()));
    while (!todo.isEmpty()) {
      Node n = todo.pop();
      if (!in.add(n)) {
        continue;
      }
      for (Value v : g.operands(n)) {
        if (!v.equals(x) && dependents.contains(v.node())) {
          todo.push(v.node());
        }
      }
    }
    List<Node> order = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (in.contains(n)) {
        String why = refusal(g, n, x, in);
        if (why != null) {
          return new Found(null, why);
        }
        order.add(n);
      }
    }
    return new Found(new ExpertCone(order, y), null);
  }

  /** The nodes that depend on x (through any path), x's own node excluded. */
  static Set<Node> dependents(Graph g, Value x) {
    Set<Node> out = new LinkedHashSet<>();
    Deque<Node> todo = new ArrayDeque<>();
    for (Node u : g.users(x.node())) {
      for (Value v : g.operands(u)) {
        if (v.equals(x)) {
          todo.push(u);
        }
      }
    }
    while (!todo.isEmpty()) {
      Node n = todo.pop();
      if (out.add(n)) {
        todo.addAll(g.users(n));
      }
    }
    return out;
  }

  private static String refusal(Graph g, Node n, Value x, Set<Node> cone) {
    TensorType xt = x.type();
    int r = xt.rank();
    List<Dim> tokens = xt.dims().subList(0, r - 1);
    if (n.outputTypes().size() != 1 || !rowShaped(n.type(), tokens)) {
      return "its " + n.op().text() + " changes the token axes";
    }
    List<Value> ops = g.operands(n);
    List<Boolean> rowOperand = new ArrayList<>();
    for (Value v : ops) {
      rowOperand.add(v.equals(x) || cone.contains(v.node()));
    }
    Op op = n.op();
    if (op.isElementwiseUnary() || op == Op.CAST) {
      return null;
    }
    if (op.isElementwiseBinary() || op == Op.WHERE) {
      for (int i = 0; i < ops.size(); i++) {
        if (!rowOperand.get(i) && ops.get(i).type().rank() > 1) {
          return "its " + op.text() + " takes a per-token operand from outside the expert";
        }
      }
      return null;
    }
    return switch (op) {
      case MATMUL ->
          rowOperand.get(0) && !rowOperand.get(1) && ops.get(1).type().rank() == 2
              ? null
              : "its matmul is not x @ W with a fixed W";
      case LAYER_NORM, RMS_NORM ->
          rowOperand.subList(1, ops.size()).contains(true)
              ? "its " + op.text() + " takes its scale from the routed value"
              : null;
      case SOFTMAX, LOG_SOFTMAX ->
          NormalizationOps.AXIS.axis(n.attrs(), r) == r - 1
              ? null
              : "its " + op.text() + " is not over the features";
      case REDUCE_SUM, REDUCE_MEAN, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD ->
          ReductionOps.AXIS.axis(n.attrs(), r) == r - 1 && ReductionOps.KEEP.get(n.attrs())
              ? null
              : "its " + op.text() + " is not over the features";
      default -> "it uses " + op.text() + ", which may mix tokens";
    };
  }

  private static boolean rowShaped(TensorType t, List<Dim> tokens) {
    return t.rank() == tokens.size() + 1 && t.dims().subList(0, tokens.size()).equals(tokens);
  }

  /**
   * FLOPs of the cone for one token: each node's estimate with every symbolic size at 1, divided by
   * the token count at the same sizes.
   */
  double flopsPerToken(Graph g, List<Dim> tokens) {
    DimSize one = ExpertCone::atOne;
    double total = 0;
    for (Node n : nodes) {
      List<TensorType> in = new ArrayList<>();
      for (Value v : g.operands(n)) {
        in.add(v.type());
      }
      total += OpDefs.of(n.op()).flops(in, n.type(), one);
    }
    double t = 1;
    for (Dim d : tokens) {
      t *= atOne(d);
    }
    return total / t;
  }

  static long atOneLong(Dim d) {
    return (long) atOne(d);
  }

  static double atOne(Dim d) {
    if (d.isKnown()) {
      return d.value();
    }
    try {
      return d.isUnknown() ? 1 : Math.max(1, d.eval(s -> 1));
    } catch (ArithmeticException e) {
      return 1;
    }
  }

  /**
   * Builds the cone again on {@code rows} (the gathered rows of x, {@code [m, features]}, rank 2)
   * and returns its output there; axis attributes that named x's last axis name axis 1.
   */
  Value cloneOn(Graph g, Value x, Value rows) {
    Map<Value, Value> map = new HashMap<>();
    map.put(x, rows);
    int last = x.type().rank() - 1;
    for (Node n : nodes) {
      List<Value> args = new ArrayList<>();
      for (Value v : g.operands(n)) {
        args.add(map.getOrDefault(v, v));
      }
      Attrs a = n.attrs();
      if (last != 1 && a.has("axis")) {
        a = a.with("axis", 1L);
      }
      map.put(n.out(), g.add(n.op(), a, args, n.loc()).out());
    }
    return map.get(output);
  }
}
