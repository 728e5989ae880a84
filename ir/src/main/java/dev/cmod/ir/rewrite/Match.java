package dev.cmod.ir.rewrite;

import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Value;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of matching a {@link Pattern} at a root node: the values captured by name, and
 * read-only questions about the graph. Rules read the graph through a match and change it through a
 * {@link Rewriter}, never directly, so a match hands out no {@link Graph}.
 */
public final class Match {
  private final Graph graph;
  private final Node root;
  private final LinkedHashMap<String, Value> captures = new LinkedHashMap<>();

  Match(Graph graph, Node root) {
    this.graph = graph;
    this.root = root;
  }

  /**
   * Matches {@code pattern} at {@code root}'s first output without a rule or a driver, for readers
   * that only look (the ONNX backend's fusion step chooses how to emit a subgraph, it does not
   * rewrite it): the match, or null when the pattern does not match.
   */
  public static Match of(Pattern pattern, Graph graph, Node root) {
    Match m = new Match(graph, root);
    return pattern.match(root.out(), m) ? m : null;
  }

  /** The node the pattern was matched at. */
  public Node root() {
    return root;
  }

  /** The value captured under {@code name}. */
  public Value value(String name) {
    Value v = captures.get(name);
    if (v == null) {
      throw new IllegalArgumentException("the pattern captured no '" + name + "'");
    }
    return v;
  }

  /** Whether the pattern captured a value under {@code name} (an optional part that matched). */
  public boolean has(String name) {
    return captures.containsKey(name);
  }

  /** The node whose output was captured under {@code name}. */
  public Node node(String name) {
    return value(name).node();
  }

  /** The operands of {@code n} in slot order. */
  public List<Value> operands(Node n) {
    return graph.operands(n);
  }

  /** The nodes that use an output of {@code n}, by id. */
  public List<Node> users(Node n) {
    return graph.users(n);
  }

  /** Whether {@code v} is one of the model's outputs. */
  public boolean isModelOutput(Value v) {
    return graph.outputs().containsValue(v);
  }

  /** Whether a parameter with this path is in the graph. */
  public boolean hasParamPath(String path) {
    for (Node n : graph.nodes()) {
      if (n.op() == dev.cmod.ir.graph.Op.PARAM && path.equals(n.attrs().getString("path"))) {
        return true;
      }
    }
    return false;
  }

  boolean bind(String name, Value v) {
    Value prev = captures.putIfAbsent(name, v);
    return prev == null || prev.equals(v);
  }

  Map<String, Value> snapshot() {
    return new LinkedHashMap<>(captures);
  }

  void restore(Map<String, Value> saved) {
    captures.clear();
    captures.putAll(saved);
  }
}
