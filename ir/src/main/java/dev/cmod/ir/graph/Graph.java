package dev.cmod.ir.graph;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import org.jgrapht.graph.DirectedMultigraph;

/**
 * A model as a typed dataflow graph. JGraphT holds the structure (edges point from producer to
 * consumer and carry the operand slot); this facade keeps the ordered inputs and outputs, the
 * sources of symbolic dims and the model metadata, and hands out nodes in a deterministic
 * topological order (ties broken by node id).
 */
public final class Graph {
  /** Where a symbolic dim's runtime value comes from: axis {@code axis} of input {@code input}. */
  public record SymbolSource(String input, int axis) {}

  private final String name;
  private final DirectedMultigraph<Node, OperandEdge> g =
      new DirectedMultigraph<>(null, null, false);
  private final List<Node> inputs = new ArrayList<>();
  private final LinkedHashMap<String, Value> outputs = new LinkedHashMap<>();
  private final LinkedHashMap<String, SymbolSource> symbols = new LinkedHashMap<>();
  private final LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
  private int nextId;

  public Graph(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  public Value addInput(String inputName, TensorType type, SourceLoc loc) {
    Node n = newNode(Op.INPUT, Attrs.of("name", inputName), List.of(type), loc);
    inputs.add(n);
    for (int axis = 0; axis < type.rank(); axis++) {
      for (String s : type.dim(axis).symbols()) {
        if (type.dim(axis).toString().equals(s)) {
          symbols.putIfAbsent(s, new SymbolSource(inputName, axis));
        }
      }
    }
    return n.out();
  }

  public Value addParam(String path, Tensor value, boolean trainable, SourceLoc loc) {
    TensorType t = TensorType.of(value.dtype(), value.shape());
    return newNode(
            Op.PARAM,
            Attrs.of("path", path, "value", value, "trainable", trainable),
            List.of(t),
            loc)
        .out();
  }

  public Value addConst(Tensor value, SourceLoc loc) {
    TensorType t = TensorType.of(value.dtype(), value.shape());
    return newNode(Op.CONST, Attrs.of("value", value), List.of(t), loc).out();
  }

  /** Adds an operator node; its output types come from {@link ShapeInference}. */
  public Node add(Op op, Attrs attrs, List<Value> operands, SourceLoc loc) {
    Node n = newNode(op, attrs, infer(op, attrs, operands), loc);
    link(n, operands);
    return n;
  }

  /**
   * Adds an operator node with an id taken earlier by {@link #reserveId}: a structured node's
   * lowering gives its dense form the ids (and so the order and names) it would have had if it had
   * been built dense.
   */
  public Node addWithId(int id, Op op, Attrs attrs, List<Value> operands, SourceLoc loc) {
    if (id < 0 || id >= nextId) {
      throw new IllegalArgumentException("node id " + id + " was not reserved");
    }
    Node n = new Node(id, op, attrs, infer(op, attrs, operands), loc);
    g.addVertex(n);
    link(n, operands);
    return n;
  }

  /** Takes the next node id without adding a node (for {@link #addWithId}). */
  public int reserveId() {
    return nextId++;
  }

  private static List<TensorType> infer(Op op, Attrs attrs, List<Value> operands) {
    List<TensorType> in = new ArrayList<>(operands.size());
    for (Value v : operands) {
      in.add(v.type());
    }
    return ShapeInference.infer(op, attrs, in);
  }

  private void link(Node n, List<Value> operands) {
    for (int i = 0; i < operands.size(); i++) {
      Value v = operands.get(i);
      g.addEdge(v.node(), n, new OperandEdge(i, v.index()));
    }
  }

  private Node newNode(Op op, Attrs attrs, List<TensorType> types, SourceLoc loc) {
    Node n = new Node(nextId++, op, attrs, types, loc);
    g.addVertex(n);
    return n;
  }

  /** Replaces a leaf's attributes (a parameter's value, say), keeping its uses. */
  public Node replaceLeaf(Node leaf, Attrs attrs, TensorType type) {
    Node n = newNode(leaf.op(), attrs, List.of(type), leaf.loc());
    if (leaf.op() == Op.INPUT) {
      inputs.set(inputs.indexOf(leaf), n);
    }
    replaceAllUses(leaf.out(), n.out());
    g.removeVertex(leaf);
    return n;
  }

  public void setOutput(String outputName, Value v) {
    outputs.put(outputName, v);
  }

  /**
   * Puts the outputs named in {@code order} first, in that order; the others follow as they were.
   */
  public void orderOutputs(List<String> order) {
    LinkedHashMap<String, Value> was = new LinkedHashMap<>(outputs);
    outputs.clear();
    for (String name : order) {
      Value v = was.remove(name);
      if (v != null) {
        outputs.put(name, v);
      }
    }
    outputs.putAll(was);
  }

  public Map<String, Value> outputs() {
    return Collections.unmodifiableMap(outputs);
  }

  public List<Node> inputs() {
    return Collections.unmodifiableList(inputs);
  }

  public Map<String, SymbolSource> symbols() {
    return Collections.unmodifiableMap(symbols);
  }

  public void putSymbol(String symbol, SymbolSource source) {
    symbols.putIfAbsent(symbol, source);
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  public boolean contains(Node n) {
    return g.containsVertex(n);
  }

  public int nodeCount() {
    return g.vertexSet().size();
  }

  /** The operands of {@code n} in slot order. */
  public List<Value> operands(Node n) {
    Set<OperandEdge> es = g.incomingEdgesOf(n);
    Value[] out = new Value[es.size()];
    for (OperandEdge e : es) {
      out[e.operandIndex] = new Value(g.getEdgeSource(e), e.sourceOutput);
    }
    return List.of(out);
  }

  /** The nodes that use any output of {@code n}, by id. */
  public List<Node> users(Node n) {
    List<Node> us = new ArrayList<>();
    for (OperandEdge e : g.outgoingEdgesOf(n)) {
      Node t = g.getEdgeTarget(e);
      if (!us.contains(t)) {
        us.add(t);
      }
    }
    us.sort(Comparator.comparingInt(Node::id));
    return us;
  }

  /** Points every use of {@code from} (operands and model outputs) at {@code to}. */
  public void replaceAllUses(Value from, Value to) {
    if (from.equals(to)) {
      return;
    }
    for (OperandEdge e : new ArrayList<>(g.outgoingEdgesOf(from.node()))) {
      if (e.sourceOutput != from.index()) {
        continue;
      }
      Node target = g.getEdgeTarget(e);
      g.removeEdge(e);
      g.addEdge(to.node(), target, new OperandEdge(e.operandIndex, to.index()));
    }
    for (Map.Entry<String, Value> o : outputs.entrySet()) {
      if (o.getValue().equals(from)) {
        o.setValue(to);
      }
    }
  }

  /** Points the uses of {@code from} by the given consumers (only) at {@code to}. */
  public void replaceUsesBy(Value from, Value to, java.util.Collection<Node> consumers) {
    for (OperandEdge e : new ArrayList<>(g.outgoingEdgesOf(from.node()))) {
      Node target = g.getEdgeTarget(e);
      if (e.sourceOutput != from.index() || !consumers.contains(target)) {
        continue;
      }
      g.removeEdge(e);
      g.addEdge(to.node(), target, new OperandEdge(e.operandIndex, to.index()));
    }
  }

  /** Removes a node that nothing uses any more. */
  public void remove(Node n) {
    if (!g.outgoingEdgesOf(n).isEmpty()) {
      throw new IllegalStateException(n + " still has users");
    }
    inputs.remove(n);
    g.removeVertex(n);
  }

  /** All nodes in topological order; among ready nodes the smallest id comes first. */
  public List<Node> nodes() {
    Map<Node, Integer> pending = new java.util.HashMap<>();
    PriorityQueue<Node> ready = new PriorityQueue<>(Comparator.comparingInt(Node::id));
    for (Node n : g.vertexSet()) {
      int deg = g.inDegreeOf(n);
      if (deg == 0) {
        ready.add(n);
      } else {
        pending.put(n, deg);
      }
    }
    List<Node> order = new ArrayList<>(g.vertexSet().size());
    while (!ready.isEmpty()) {
      Node n = ready.poll();
      order.add(n);
      for (OperandEdge e : g.outgoingEdgesOf(n)) {
        Node t = g.getEdgeTarget(e);
        int left = pending.merge(t, -1, Integer::sum);
        if (left == 0) {
          pending.remove(t);
          ready.add(t);
        }
      }
    }
    if (order.size() != g.vertexSet().size()) {
      throw new IllegalStateException("graph has a cycle");
    }
    return order;
  }
}
