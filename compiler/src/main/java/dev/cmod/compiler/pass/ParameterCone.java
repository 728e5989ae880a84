package dev.cmod.compiler.pass;

import dev.cmod.ir.graph.Node;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.rewrite.ConstantFolder;
import dev.cmod.ir.rewrite.Match;
import dev.cmod.ir.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The computation a parameter merge evaluates: a node and everything it reads back to parameters
 * and constants, with no input on the way. LoRA's {@code W + s·(A@B)} at d = 4096 is such a cone
 * whose inner product is larger than the speculative folding cap, so folding node by node would
 * stop at {@code A@B}; the cone is evaluated whole, and only its result has to be no larger than a
 * parameter it reads. The walk is bounded ({@link #MAX_NODES} operator nodes), so asking costs at
 * most that much for any node.
 */
final class ParameterCone {
  /** The most operator nodes a cone may have; a LoRA merge has three, stacked merges a few more. */
  static final int MAX_NODES = 64;

  private final List<Node> order = new ArrayList<>();
  private final Set<Node> seen = new LinkedHashSet<>();
  private final List<Node> params = new ArrayList<>();
  private long largestParam;
  private int entered;
  private boolean beyondSpeculativeCap;

  private ParameterCone() {}

  /**
   * The cone ending at {@code root}, or null when it reads an input or an opaque region, has an
   * unknown or too large shape on the way, or has more than {@link #MAX_NODES} operator nodes.
   */
  static ParameterCone of(Match m, Node root) {
    ParameterCone c = new ParameterCone();
    return c.visit(m, root) ? c : null;
  }

  private boolean visit(Match m, Node n) {
    if (!seen.add(n)) {
      return true;
    }
    if (n.op() == Op.PARAM) {
      if (dev.cmod.ir.op.LeafOps.OVERRIDABLE.get(n.attrs())) {
        return false; // a run may replace it: nothing is merged through it
      }
      params.add(n);
      largestParam = Math.max(largestParam, ConstantFolder.largestOutput(n, Long.MAX_VALUE));
      return true;
    }
    if (n.op() == Op.CONST) {
      return true;
    }
    if (n.op().isLeaf() || !ConstantFolder.foldable(n) || ++entered > MAX_NODES) {
      return false;
    }
    for (Value v : m.operands(n)) {
      if (!visit(m, v.node())) {
        return false;
      }
    }
    beyondSpeculativeCap |= !ConstantFolder.small(n);
    order.add(n);
    return true;
  }

  /** The parameters the cone reads, in the order the walk met them (operands in slot order). */
  List<Node> params() {
    return params;
  }

  /**
   * The parameter the result is named after: the first one of {@code root}'s type (the weight that
   * a LoRA or IA³ adapts, wherever it stands in the expression), else the first one.
   */
  Node named(Node root) {
    for (Node p : params) {
      if (p.type().equals(root.type())) {
        return p;
      }
    }
    return params.get(0);
  }

  /**
   * Whether some node of the cone is larger than the speculative cap (node folding stops there).
   */
  boolean beyondSpeculativeCap() {
    return beyondSpeculativeCap;
  }

  /** The element count of the largest parameter the cone reads. */
  long largestParam() {
    return largestParam;
  }

  /**
   * Whether every live use of {@code n} is a node of this cone: a node an earlier merge of the same
   * sweep left without uses (the inner merge of stacked LoRAs) does not count.
   */
  boolean usesOnlyInside(Match m, Node n) {
    for (Node u : m.users(n)) {
      if (!seen.contains(u) && (!m.users(u).isEmpty() || m.isModelOutput(u.out()))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The root's outputs: every node evaluated by the shared {@link ConstantFolder} in operand order,
   * so the value is what folding node by node (or the interpreter at run time) would compute.
   */
  List<Tensor> evaluate(Match m) {
    Map<Node, Integer> lastUse = new HashMap<>();
    for (int i = 0; i < order.size(); i++) {
      for (Value v : m.operands(order.get(i))) {
        lastUse.put(v.node(), i);
      }
    }
    Map<Node, List<Tensor>> done = new HashMap<>();
    List<Tensor> last = List.of();
    for (int i = 0; i < order.size(); i++) {
      Node n = order.get(i);
      List<Tensor> args = new ArrayList<>();
      for (Value v : m.operands(n)) {
        Node p = v.node();
        args.add(
            p.op() == Op.PARAM || p.op() == Op.CONST
                ? p.attrs().getTensor("value")
                : done.get(p).get(v.index()));
      }
      last = ConstantFolder.evaluate(n, args);
      done.put(n, last);
      // drop what no later node reads: a d = 4096 intermediate is 64 MiB
      for (Value v : m.operands(n)) {
        if (lastUse.get(v.node()) == i) {
          done.remove(v.node());
        }
      }
    }
    return last;
  }
}
