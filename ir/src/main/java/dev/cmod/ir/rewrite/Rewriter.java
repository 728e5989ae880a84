package dev.cmod.ir.rewrite;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.Graph;
import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.SourceLoc;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * The only way a rule changes a graph: create nodes, point the uses of a value at another, replace
 * a leaf, erase a node nothing uses. Every call is recorded, so that the driver knows whether a
 * rule changed anything and the change log can say what. Dead nodes a rewrite leaves behind stay
 * until the pass manager's dead-code elimination; rules do not clean up after themselves.
 */
public final class Rewriter {
  /** One recorded edit, in a form a change log can print. */
  public record Edit(String kind, String what) {
    @Override
    public String toString() {
      return kind + " " + what;
    }
  }

  private final Graph graph;
  private final List<Edit> edits = new ArrayList<>();

  public Rewriter(Graph graph) {
    this.graph = graph;
  }

  /** A new operator node (types from shape inference). */
  public Node create(Op op, Attrs attrs, List<Value> operands, SourceLoc loc) {
    Node n = graph.add(op, attrs, operands, loc);
    edits.add(new Edit("create", n.toString()));
    return n;
  }

  /** A new constant. */
  public Value constant(Tensor value, SourceLoc loc) {
    Value v = graph.addConst(value, loc);
    edits.add(new Edit("create", v.node().toString()));
    return v;
  }

  /** A new parameter. */
  public Value param(String path, Tensor value, boolean trainable, SourceLoc loc) {
    Value v = graph.addParam(path, value, trainable, loc);
    edits.add(new Edit("create", v.node() + " \"" + path + "\""));
    return v;
  }

  /** Replaces a leaf by a new one with these attributes, keeping its uses. */
  public Node replaceLeaf(Node leaf, Attrs attrs, TensorType type) {
    Node n = graph.replaceLeaf(leaf, attrs, type);
    edits.add(new Edit("replace", leaf + " by " + n));
    return n;
  }

  /**
   * Points every use of {@code from} (operands and model outputs) at {@code to}; false, and nothing
   * recorded, when {@code from} is {@code to} or has no use.
   */
  public boolean replaceAllUses(Value from, Value to) {
    if (from.equals(to) || !used(from)) {
      return false;
    }
    graph.replaceAllUses(from, to);
    edits.add(new Edit("replace", from + " by " + to));
    return true;
  }

  /** Replaces the outputs of {@code n}, in order, by {@code values}; whether anything changed. */
  public boolean replaceOp(Node n, Value... values) {
    if (values.length != n.outputTypes().size()) {
      throw new IllegalArgumentException(
          n + " has " + n.outputTypes().size() + " outputs, given " + values.length);
    }
    boolean changed = false;
    for (int i = 0; i < values.length; i++) {
      changed |= replaceAllUses(n.out(i), values[i]);
    }
    return changed;
  }

  private boolean used(Value v) {
    if (graph.outputs().containsValue(v)) {
      return true;
    }
    for (Node u : graph.users(v.node())) {
      for (Value operand : graph.operands(u)) {
        if (operand.equals(v)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether no operand and no model output uses any output of {@code n}. */
  boolean isDead(Node n) {
    for (int i = 0; i < n.outputTypes().size(); i++) {
      if (graph.outputs().containsValue(n.out(i))) {
        return false;
      }
    }
    return graph.users(n).isEmpty();
  }

  /** Removes a node nothing uses. */
  public void erase(Node n) {
    graph.remove(n);
    edits.add(new Edit("erase", n.toString()));
  }

  /** Everything done through this rewriter so far, in order. */
  public List<Edit> edits() {
    return List.copyOf(edits);
  }

  int editCount() {
    return edits.size();
  }

  List<Edit> editsSince(int mark) {
    return List.copyOf(edits.subList(mark, edits.size()));
  }
}
