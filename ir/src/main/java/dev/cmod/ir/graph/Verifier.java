package dev.cmod.ir.graph;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.TensorType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Structural checks of a graph, for tests and for catching bugs in rewrites: operand slots,
 * arities, types (by re-running {@link ShapeInference}), outputs, inputs and parameters.
 */
public final class Verifier {
  private Verifier() {}

  /** The problems found in {@code g}, one message each; empty when the graph is well formed. */
  public static List<String> verify(Graph g) {
    List<String> problems = new ArrayList<>();
    List<Node> nodes;
    try {
      nodes = g.nodes();
    } catch (IllegalStateException e) {
      problems.add("graph: " + e.getMessage());
      return problems;
    }
    Map<String, Node> paths = new HashMap<>();
    Set<String> inputNames = new HashSet<>();
    for (Node n : nodes) {
      String at = n + (n.loc() != null ? " (" + n.loc() + ")" : "");
      Op op = n.op();
      List<Value> operands;
      try {
        operands = g.operands(n);
      } catch (RuntimeException e) {
        problems.add(at + ": operand slots are not 0..n-1 without gaps or repeats");
        continue;
      }
      if (operands.size() < op.minArity || operands.size() > op.maxArity) {
        problems.add(
            at
                + ": has "
                + operands.size()
                + " operands, "
                + op.text()
                + " takes "
                + op.minArity
                + (op.maxArity == op.minArity
                    ? ""
                    : op.maxArity == Integer.MAX_VALUE ? " or more" : " to " + op.maxArity));
        continue;
      }
      if (n.outputTypes().isEmpty()) {
        problems.add(at + ": has no outputs");
        continue;
      }
      boolean operandsOk = true;
      for (int i = 0; i < operands.size(); i++) {
        Value v = operands.get(i);
        if (v.index() < 0 || v.index() >= v.node().outputTypes().size()) {
          problems.add(
              at
                  + ": operand "
                  + i
                  + " uses output "
                  + v.index()
                  + " of "
                  + v.node()
                  + ", which has "
                  + v.node().outputTypes().size());
          operandsOk = false;
        }
      }
      switch (op) {
        case INPUT -> {
          if (!(n.attrs().asMap().get("name") instanceof String name)) {
            problems.add(at + ": input has no string attribute \"name\"");
          } else {
            if (!inputNames.add(name)) {
              problems.add(at + ": input name '" + name + "' is used twice");
            }
            if (!g.inputs().contains(n)) {
              problems.add(at + ": input '" + name + "' is not among the graph's inputs");
            }
          }
          checkSingle(n, at, problems);
        }
        case PARAM -> {
          if (!(n.attrs().asMap().get("path") instanceof String path)) {
            problems.add(at + ": param has no string attribute \"path\"");
          } else {
            Node prev = paths.putIfAbsent(path, n);
            if (prev != null) {
              problems.add(at + ": param path '" + path + "' is also used by " + prev);
            }
          }
          checkValue(n, at, problems);
        }
        case CONST -> checkValue(n, at, problems);
        default -> {
          if (operandsOk) {
            List<TensorType> in = new ArrayList<>();
            for (Value v : operands) {
              in.add(v.type());
            }
            try {
              List<TensorType> want = ShapeInference.infer(op, n.attrs(), in);
              if (!want.equals(n.outputTypes())) {
                problems.add(
                    at + ": types " + n.outputTypes() + " differ from the inferred " + want);
              }
            } catch (ShapeException e) {
              problems.add(at + ": " + e.getMessage());
            } catch (RuntimeException e) {
              problems.add(at + ": bad attributes: " + e);
            }
          }
        }
      }
    }
    for (Node in : g.inputs()) {
      if (in.op() != Op.INPUT) {
        problems.add(in + ": listed as a graph input but is " + in.op().text());
      }
      if (!g.contains(in)) {
        problems.add(in + ": listed as a graph input but is not in the graph");
      }
    }
    for (Map.Entry<String, Value> o : g.outputs().entrySet()) {
      Value v = o.getValue();
      if (v == null || !g.contains(v.node())) {
        problems.add("output '" + o.getKey() + "': " + v + " is not in the graph");
      } else if (v.index() < 0 || v.index() >= v.node().outputTypes().size()) {
        problems.add(
            "output '" + o.getKey() + "': " + v + " names a missing output of " + v.node());
      }
    }
    return problems;
  }

  private static void checkSingle(Node n, String at, List<String> problems) {
    if (n.outputTypes().size() != 1) {
      problems.add(at + ": a leaf has exactly one output, this has " + n.outputTypes().size());
    }
  }

  private static void checkValue(Node n, String at, List<String> problems) {
    checkSingle(n, at, problems);
    if (!(n.attrs().asMap().get("value") instanceof Tensor t)) {
      problems.add(at + ": " + n.op().text() + " has no tensor attribute \"value\"");
      return;
    }
    TensorType have = TensorType.of(t.dtype(), t.shape());
    if (!have.equals(n.type())) {
      problems.add(at + ": value is " + have + " but the node's type is " + n.type());
    }
  }
}
